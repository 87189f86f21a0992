import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts", "policy/**/*.test.ts"],
        // Pulumi's SDK keeps process-wide state (mocks, config): one process per test file.
        pool: "forks",
        globalSetup: ["test/support/global-setup.ts"],
        testTimeout: 30_000,
        hookTimeout: 60_000,
    },
});
