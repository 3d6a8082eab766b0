/** Per-model prompt-cache figures (issue #5): cached share of input and conversation moves. */
import type { ModelCacheRow } from "../types.ts";
import { formatCount, formatMoves, formatShare } from "../_format.ts";

/** One row per model with usage in the period. */
export function ModelCacheTable(
  { rows, affinityOn }: { rows: readonly ModelCacheRow[]; affinityOn: boolean },
) {
  return (
    <div class="table-wrap">
      <table class="models-cache-table">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num p2">Input tokens</th>
            <th scope="col" class="num p3">Cache R</th>
            <th scope="col" class="num">Cached share</th>
            {affinityOn && <th scope="col">Moves</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.modelId} data-model={r.modelId}>
              <td data-col="Model">{r.modelId}</td>
              <td class="num" data-col="Requests">{formatCount(r.requests)}</td>
              <td class="num p2" data-col="Input tokens">{formatCount(r.inputTokens)}</td>
              <td class="num p3" data-col="Cache R">{formatCount(r.cacheReadTokens)}</td>
              <td class="num" data-col="Cached share">{formatShare(r.cacheShare)}</td>
              {affinityOn && <td data-col="Moves">{formatMoves(r.moves)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
