import type { Api } from "./api";
import { newRunView } from "./views/newrun";
import { runView } from "./views/run";
import { runsView } from "./views/runs";

/**
 * route shows the view the URL's hash names: #/ (runs), #/run/<id>,
 * #/new. It returns the view's cleanup (stopping its streams).
 */
export function route(api: Api, main: HTMLElement, hash: string): () => void {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const run = /^\/run\/([^/]+)$/.exec(path);
  if (run) return runView(api, main, decodeURIComponent(run[1]));
  if (path === "/new") return newRunView(api, main, (h) => (window.location.hash = h));
  return runsView(api, main, params);
}
