/** The sign-in page of a non-public dashboard (09-decisions). */
import type { LoginPageProps } from "./types.ts";
import { Layout } from "./layout.tsx";

/** A form that posts the local API key; the key is never echoed back. */
export function LoginPage({ chrome, next, error }: LoginPageProps) {
  return (
    <Layout chrome={chrome}>
      <section class="card login">
        <h1>Sign in</h1>
        <p class="muted">
          This dashboard is private. Enter the local API key (<code>[server].api_key_env</code>{" "}
          in config.toml) to open it in this browser.
        </p>
        <form method="post" action="/login">
          <input type="hidden" name="next" value={next} />
          <label for="key">Local API key</label>
          <input
            id="key"
            name="key"
            type="password"
            autocomplete="current-password"
            required
            autofocus
          />
          {error !== undefined && <p class="error" role="alert">{error}</p>}
          <button type="submit" class="primary">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}
