/** Shown on Traces and Runtime when the dashboard is public and the viewer has no key. */
import type { PageChrome } from "../types.ts";
import { Layout } from "../layout.tsx";

/** Explains why the page is closed and how to open it. */
export function KeyNeededPage({ chrome }: { chrome: PageChrome }) {
  return (
    <Layout chrome={chrome}>
      <h1>{chrome.title}</h1>
      <section class="card empty-state">
        <p>
          <strong>This page needs the local API key.</strong>
        </p>
        <p>
          It shows request traces and process details, which stay private even with{" "}
          <code>[dashboard] public = true</code>. Call it with{" "}
          <code>Authorization: Bearer &lt;key&gt;</code>, or set{" "}
          <code>[dashboard] public = false</code> and sign in.
        </p>
      </section>
    </Layout>
  );
}
