// One form for every date and time the portal shows (calls/templatetags/portal_time.py): 2026-12-04
// 18:52:03 in the portal's time zone, never the browser's own zone nor UTC.
export function formatWhen(date, timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: timeZone || undefined, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  for (const { type, value } of format.formatToParts(date)) parts[type] = value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}
