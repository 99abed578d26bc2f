import { describe } from "vitest";
import {
  BEARER_MODE_ENV,
  bearerModeSuite,
  COOKIE_MODE_ENV,
  cookieModeSuite,
} from "../suites/browser-clients.suite";
import { onWorkerBackends } from "./backends";

describe("SESSION_COOKIE=on", () => onWorkerBackends((h) => cookieModeSuite(h), { env: COOKIE_MODE_ENV }));
describe("SESSION_COOKIE=off", () => onWorkerBackends((h) => bearerModeSuite(h), { env: BEARER_MODE_ENV }));
