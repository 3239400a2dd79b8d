// Reads an iCalendar document on stdin with ical.js (Mozilla's parser, the one Thunderbird uses) and prints
// what it understood as JSON: the calendar's properties and every VEVENT, instants in UTC.
// Used by tests/feeds/test_icaljs.py as a reading that shares no code with the Python parsers.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function instant(prop) {
  if (!prop) return null;
  const value = prop.getFirstValue();
  return {
    // ical.js keeps "Z" times in its UTC zone; anything else (a TZID, a floating time) is reported as such.
    utc: value.zone === ICAL.Timezone.utcTimezone,
    is_date: value.isDate,
    iso: value.toJSDate().toISOString(),
    tzid: prop.getParameter("tzid") ?? null,
  };
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? null : String(value);
}

const source = readFileSync(0, "utf8");
const root = new ICAL.Component(ICAL.parse(source));
const calendar = root.name === "vcalendar" ? root : root.getFirstSubcomponent("vcalendar");
const out = {
  name: root.name,
  version: text(calendar, "version"),
  prodid: text(calendar, "prodid"),
  calname: text(calendar, "x-wr-calname"),
  timezone: text(calendar, "x-wr-timezone"),
  timezones: calendar.getAllSubcomponents("vtimezone").length,
  events: calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description,
      start: instant(component.getFirstProperty("dtstart")),
      end: instant(component.getFirstProperty("dtend")),
      dtstamp: instant(component.getFirstProperty("dtstamp")),
      last_modified: instant(component.getFirstProperty("last-modified")),
      sequence: event.sequence,
      transp: text(component, "transp"),
      url: text(component, "url"),
      recurring: event.isRecurring(),
      alarms: component.getAllSubcomponents("valarm").map((alarm) => ({
        action: text(alarm, "action"),
        description: text(alarm, "description"),
        trigger_seconds: alarm.getFirstPropertyValue("trigger").toSeconds(),
      })),
    };
  }),
};
process.stdout.write(JSON.stringify(out));
