// Calls to the JSON API with the session cookie and the CSRF header, and what to tell the
// editor when one fails. Every result is { ok, status, data }; a network failure is status 0.

const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

export function api(method, path, body, headers) {
  const options = {
    method: method,
    credentials: "same-origin",
    headers: Object.assign({ "X-CSRF-Token": csrf, Accept: "application/json" }, headers || {})
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  return fetch(path, options).then(function (response) {
    const parse = response.status === 204 ? Promise.resolve(null) : response.json().catch(function () { return null; });
    return parse.then(function (data) {
      return { ok: response.ok, status: response.status, data: data || {} };
    });
  }, function () {
    return { ok: false, status: 0, data: { detail: "The server could not be reached. Check your connection; nothing was saved." } };
  });
}

// Idempotency-Keys for creating entries, one per entry sent: the same entry sent again
// (after an answer that never came, from a host that died) carries the same key, and the
// server answers with the entry it made the first time rather than a second one.
export function RequestKeys() {
  this.keys = new Map();
}

RequestKeys.prototype.headersFor = function (body) {
  const payload = JSON.stringify(body);
  if (!this.keys.has(payload)) {
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs HTTPS
    this.keys.set(payload, Array.from(bytes, function (byte) { return byte.toString(16).padStart(2, "0"); }).join(""));
  }
  return { "Idempotency-Key": this.keys.get(payload) };
};

RequestKeys.prototype.clear = function () {
  this.keys.clear();
};

export function upload(file) {
  const body = new FormData();
  body.append("file", file);
  return fetch("/api/v1/uploads", {
    method: "POST", body: body, credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf, Accept: "application/json" }
  }).then(function (response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      return { ok: response.ok, status: response.status, data: data };
    });
  }, function () {
    return { ok: false, status: 0, data: { detail: "The server could not be reached; the photo was not uploaded." } };
  });
}

export function explain(result) {
  if (result.status === 401) return "You have been logged out. Log in again in another tab, then retry: your text is still here.";
  return result.data.detail || "Something went wrong (" + result.status + "). Your text is still here; try again.";
}
