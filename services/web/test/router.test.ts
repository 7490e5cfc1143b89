import { createClient, createRouterTransport } from "@connectrpc/connect";
import { RunService } from "@gen/kalla/v1/run_pb";
import { afterEach, describe, expect, it } from "vitest";
import { bearer, token } from "../src/api";
import { route } from "../src/router";
import { apiWith, completedRun, settle } from "./setup";

describe("route", () => {
  const api = apiWith((r) =>
    r.service(RunService, {
      listRuns: () => ({}),
      async *watchRun(req) {
        yield { run: completedRun(req.runId) };
      },
      listMatches: () => ({}),
      listUnmatched: () => ({}),
      getEvidenceLinks: () => ({}),
    }),
  );
  it.each([
    ["", "Runs"],
    ["#/", "Runs"],
    ["#/?status=failed", "Runs"],
    ["#/new", "New run"],
    ["#/run/abc-1", "Run abc-1"],
    ["#/run/a%20b", "Run a b"],
    ["#/nowhere", "Runs"],
  ])("%s", async (hash, heading) => {
    const main = document.createElement("main");
    const stop = route(api, main, hash);
    await settle();
    expect(main.querySelector("h1")?.textContent).toBe(heading);
    stop();
  });
});

describe("bearer_token", () => {
  afterEach(() => token.set(""));
  const seen = () => {
    const headers: (string | null)[] = [];
    const transport = createRouterTransport(
      (r) =>
        r.service(RunService, {
          listRuns: (_req, ctx) => {
            headers.push(ctx.requestHeader.get("Authorization"));
            return {};
          },
        }),
      { transport: { interceptors: [bearer] } },
    );
    return { headers, client: createClient(RunService, transport) };
  };

  it("sent_once_set", async () => {
    const { headers, client } = seen();
    await client.listRuns({});
    token.set("s3cret");
    await client.listRuns({});
    expect(headers).toEqual([null, "Bearer s3cret"]);
    expect(sessionStorage.getItem("kalla.token")).toBe("s3cret");
  });
  it("forgotten", async () => {
    token.set("s3cret");
    token.set("");
    const { headers, client } = seen();
    await client.listRuns({});
    expect(headers).toEqual([null]);
  });
});
