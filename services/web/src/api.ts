import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { RecipeService } from "@gen/kalla/v1/recipe_service_pb";
import { RunService } from "@gen/kalla/v1/run_pb";

/** Api is the two services the page calls. */
export interface Api {
  runs: Client<typeof RunService>;
  recipes: Client<typeof RecipeService>;
  /** baseUrl is the planner's address; evidence links are relative to it. */
  baseUrl: string;
}

export function createApi(transport: Transport, baseUrl: string): Api {
  return {
    runs: createClient(RunService, transport),
    recipes: createClient(RecipeService, transport),
    baseUrl,
  };
}

const tokenKey = "kalla.token";

/** The bearer token lives in sessionStorage: entered once per browser session. */
export const token = {
  get: (): string => sessionStorage.getItem(tokenKey) ?? "",
  set: (t: string): void => {
    if (t) sessionStorage.setItem(tokenKey, t);
    else sessionStorage.removeItem(tokenKey);
  },
};

/** bearer adds the session's token, when there is one, to every call. */
export const bearer: Interceptor = (next) => async (req) => {
  const t = token.get();
  if (t) req.header.set("Authorization", `Bearer ${t}`);
  return next(req);
};

/**
 * browserApi talks to the planner that served the page, or to the one
 * VITE_KALLA_API_URL names when the page runs from `vite dev`.
 */
export function browserApi(): Api {
  const baseUrl = (import.meta.env.VITE_KALLA_API_URL as string | undefined) ?? window.location.origin;
  return createApi(createConnectTransport({ baseUrl, interceptors: [bearer] }), baseUrl);
}

/** explain turns an API error into a sentence for people, not programs. */
export function explain(err: unknown): string {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.Unauthenticated:
      return "The API needs a valid token: enter it at the top of the page.";
    case Code.PermissionDenied:
      return `This token may not do that: ${e.rawMessage}`;
    case Code.Unavailable:
      return `The planner cannot be reached (${e.rawMessage}). Check that it is running.`;
    case Code.Canceled:
      return "The request was cancelled.";
    default:
      return e.rawMessage;
  }
}

/** isPermanent says asking again will not help: the request itself is wrong. */
export function isPermanent(err: unknown): boolean {
  const c = ConnectError.from(err).code;
  return c === Code.NotFound || c === Code.InvalidArgument || c === Code.Unauthenticated || c === Code.PermissionDenied;
}
