import { describe } from "vitest";
import {
  BEARER_MODE_ENV,
  bearerModeSuite,
  COOKIE_MODE_ENV,
  cookieModeSuite,
} from "../suites/browser-clients.suite";
import { onD1 } from "./d1";

describe("SESSION_COOKIE=on", () => onD1((h) => cookieModeSuite(h), { env: COOKIE_MODE_ENV }));
describe("SESSION_COOKIE=off", () => onD1((h) => bearerModeSuite(h), { env: BEARER_MODE_ENV }));
