import meta from "../../deno.json" with { type: "json" };

/** The EggPool version, read from deno.json at build time. */
export const EGGPOOL_VERSION: string = meta.version;
