import { authzSuite } from "../suites/authz.suite";
import { makeHarness } from "../support/harness";
import { onD1 } from "./d1";

const app = makeHarness({
  backend: "probe",
  open: () => {
    throw new Error("unused");
  },
}).app;
const mounted = new Set(app.routes.map((r) => r.path.replace(/:(\w+)/g, "{$1}")));

onD1((h) => authzSuite(h, { mounted: (path) => mounted.has(path) || mounted.has(`${path}/`) }));
