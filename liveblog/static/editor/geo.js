// Coordinates out of what editors paste: a geo: URI, an OpenStreetMap or Google Maps link,
// or a bare "lat, lon". Pure, so the browser tests call it directly.

const NUMBER = "(-?\\d{1,3}(?:\\.\\d+)?)";
const PAIR = new RegExp("^" + NUMBER + "\\s*,\\s*" + NUMBER + "$");

function place(lat, lon, zoom) {
  const found = { lat: parseFloat(lat), lon: parseFloat(lon) };
  if (!(found.lat >= -90 && found.lat <= 90) || !(found.lon >= -180 && found.lon <= 180)) return null;
  const level = parseFloat(zoom);
  if (level >= 0 && level <= 21) found.zoom = Math.round(level);
  return found;
}

function first(text, patterns) {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return match;
  }
  return null;
}

// Tried in order: a marker's own place (mlat/mlon, a Google pin's !3d!4d, ?q=) before the
// centre of the view the link was copied from (#map=, /@lat,lon,zoom).
const LINK_PATTERNS = [
  [new RegExp("[?&]mlat=" + NUMBER + "&mlon=" + NUMBER), null],
  [new RegExp("!3d" + NUMBER + "!4d" + NUMBER), null],
  [new RegExp("[?&](?:q|query|ll|center)=" + NUMBER + "(?:,|%2C)\\s*" + NUMBER, "i"), null],
  [new RegExp("#map=(\\d{1,2})/" + NUMBER + "/" + NUMBER), "zoom-first"],
  [new RegExp("/@" + NUMBER + "," + NUMBER + "(?:,(\\d{1,2}(?:\\.\\d+)?)z)?"), null]
];

export function coordinatesFrom(text) {
  const value = String(text || "").trim();
  if (!value) return null;
  const pair = PAIR.exec(value);
  if (pair) return place(pair[1], pair[2]);
  const geo = new RegExp("^geo:" + NUMBER + "," + NUMBER + "(?:,[-\\d.]+)?(?:;[^?]*)?(?:\\?(?:.*&)?z=(\\d{1,2}))?", "i").exec(value);
  if (geo) return place(geo[1], geo[2], geo[3]);
  if (!/^https?:\/\//i.test(value)) return null;
  for (const [pattern, order] of LINK_PATTERNS) {
    const match = pattern.exec(value);
    if (!match) continue;
    const found = order === "zoom-first" ? place(match[2], match[3], match[1]) : place(match[1], match[2], match[3]);
    if (found) {
      const view = first(value, [/#map=(\d{1,2})\//, /,(\d{1,2}(?:\.\d+)?)z/]);
      if (found.zoom === undefined && view) found.zoom = Math.round(parseFloat(view[1]));
      return found;
    }
  }
  return null;
}
