/** UTC calendar helpers for usage periods. Periods are `YYYY-MM-DD` strings (UTC days). */

const DAY_MS = 86_400_000;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** `day` shifted by `days` (may be negative). */
export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** Whole days from `from` to `to` (0 when equal). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The first day of the month of `day`, `YYYY-MM-01`. */
export function monthOf(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/** The first day of the month after the month of `day`. */
export function nextMonth(day: string): string {
  const d = new Date(`${monthOf(day)}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return utcDay(d);
}

/** Every period start from `from` to `to` inclusive, by day or by month. */
export function periodStarts(from: string, to: string, granularity: "day" | "month"): string[] {
  const out: string[] = [];
  if (granularity === "day") {
    for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  } else {
    for (let m = monthOf(from); m <= to; m = nextMonth(m)) out.push(m);
  }
  return out;
}
