/** A temporary folder removed when the `await using` scope ends. */
export interface TmpDir extends AsyncDisposable {
  path: string;
}

/** Creates a temporary folder for one test. */
export async function withTmpDir(prefix = "eggpool-test-"): Promise<TmpDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
