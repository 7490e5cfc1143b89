import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The planner embeds the built page (go:embed cannot reach outside its
// module), so the build writes straight into the planner's webui package.
const outDir = fileURLToPath(new URL("../planner/internal/webui/dist", import.meta.url));

export default defineConfig({
  resolve: {
    alias: { "@gen": fileURLToPath(new URL("../../gen/ts", import.meta.url)) },
  },
  build: {
    outDir,
    // dist/.gitkeep is committed so a clean clone still compiles the
    // planner; emptyOutDir would delete it, so only our own output goes.
    emptyOutDir: false,
  },
  plugins: [
    {
      name: "kalla-clean-dist",
      apply: "build",
      buildStart() {
        rmSync(`${outDir}/assets`, { recursive: true, force: true });
        rmSync(`${outDir}/index.html`, { force: true });
      },
    },
  ],
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
  },
});
