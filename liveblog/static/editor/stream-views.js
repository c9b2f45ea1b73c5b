// The nodes the stream shows: an entry's item with the buttons its viewer may use, and
// what opens under it (the edit form, two versions side by side, the history). No calls
// to the API here: stream.js does those.
import { el } from "./dom.js";
import { updateFrame } from "./reader-frame.js";

const STATUS_NAMES = { published: "Published", scheduled: "Scheduled", draft: "Draft", deleted: "Deleted" };
// Longer updates show their start until opened: the stream stays a list to scan.
const LONG_TEXT = 600;
const LONG_BLOCKS = 3;

// The time an entry is listed by: its publication time, else (a draft) its creation.
export function moment(entry) {
  return entry.published_at || entry.created_at;
}

function words(entry) {
  return [entry.headline || "", entry.author.name].concat(entry.blocks.map(function (block) {
    return [block.markdown, block.text, block.author_name, block.title, block.caption, block.credit, block.alt]
      .concat((block.markers || []).map(function (marker) { return marker.label; }))
      .filter(Boolean).join(" ");
  })).join(" ").toLowerCase();
}

const FILTERS = {
  all: function () { return true; },
  drafts: function (entry) { return entry.status === "draft"; },
  review: function (entry) { return entry.review === "pending"; },
  key: function (entry) { return entry.key_event; },
  pinned: function (entry) { return entry.pinned; }
};

// Whether the entry passes the filter chosen and holds every word searched for.
export function matches(entry, filter, searched) {
  if (!FILTERS[filter](entry)) return false;
  const text = words(entry);
  return searched.every(function (word) { return text.indexOf(word) !== -1; });
}

function isLong(entry) {
  const text = entry.blocks.reduce(function (total, block) { return total + (block.markdown || "").length; }, 0);
  return text > LONG_TEXT || entry.blocks.length >= LONG_BLOCKS;
}

export function entryItem(entry, isEditor, userId, dates, shell) {
  const name = "update " + entry.id;
  function button(act, text, pressed) {
    const attrs = { type: "button", "data-act": act, "aria-label": text + " (" + name + ")" };
    if (pressed !== undefined) attrs["aria-pressed"] = String(pressed);
    return el("button", Object.assign(attrs, { text: text }));
  }
  let status = STATUS_NAMES[entry.status];
  let state = entry.status;
  if (entry.review === "pending") { status = "Waiting for review"; state = "pending"; }
  if (entry.review === "returned") { status = "Returned to author"; state = "pending"; }
  const when = moment(entry);
  const meta = el("div", { "class": "item-meta" }, [
    el("span", { "class": "status status-" + state, text: status }),
    entry.label ? el("span", { "class": "item-label", text: entry.label }) : null,
    el("time", { "class": "item-date", datetime: when, text: (entry.published_at ? "" : "created ") + dates.format(new Date(when)) }),
    el("span", { text: "by " + entry.author.name }),
    entry.pinned ? el("span", { "class": "status", text: "Pinned" }) : null,
    entry.key_event ? el("span", { "class": "status", text: "Key event" }) : null
  ]);
  const long = isLong(entry);
  const body = el("div", { "class": "item-body" + (long ? " collapsed" : ""), id: "item-body-" + entry.id }, [
    entry.review_note ? el("p", { "class": "review-note", text: "Editor's note: " + entry.review_note }) : null,
    updateFrame(shell, entry.reader_html, (entry.headline || "Update " + entry.id) + ", as readers see it")
  ]);
  const expand = long ? el("button", {
    type: "button", "class": "link item-expand", "data-expand": "", "aria-expanded": "false",
    "aria-controls": body.id, text: "Show all"
  }) : null;
  const draft = entry.status === "draft";
  let buttons;
  if (isEditor) {
    buttons = [
      draft ? button("publish", "Publish") : null,
      entry.review === "pending" ? button("return", "Return to author") : null,
      button("edit", "Edit"),
      button("pin", entry.pinned ? "Unpin" : "Pin", entry.pinned),
      button("key", "Key event", entry.key_event),
      button("history", "History"),
      button("delete", "Delete")
    ];
  } else if (draft && entry.author.id === userId) {
    buttons = [
      entry.review !== "pending" ? button("submit", "Submit for review") : null,
      button("edit", "Edit"),
      button("history", "History"),
      button("delete", "Delete")
    ];
  } else {
    buttons = [];
  }
  const actions = el("div", { "class": "item-actions" }, buttons);
  return el("li", { "class": "item", id: "item-" + entry.id, "data-id": entry.id, "data-version": entry.version }, [
    meta, body, expand, actions, el("div", { "class": "item-panel" })
  ]);
}

// Editors editing a published update may say what they corrected; readers see the note.
export function editForm(entry, isEditor) {
  const prefix = "edit-" + entry.id + "-";
  const fields = [
    el("p", { "class": "field" }, [
      el("label", { "for": prefix + "headline", text: "Headline" }),
      el("input", { id: prefix + "headline", name: "headline", maxlength: "300" })
    ])
  ];
  entry.blocks.forEach(function (block, index) {
    if (block.type === "text") {
      const area = el("textarea", { id: prefix + "text-" + index, name: "text-" + index, rows: "6" });
      area.value = block.markdown;
      fields.push(el("p", { "class": "field" }, [el("label", { "for": area.id, text: "Text" }), area]));
    } else {
      fields.push(el("p", { "class": "hint", text: "A " + block.type + " block, kept as it is." }));
    }
  });
  if (isEditor && entry.status === "published") {
    fields.push(el("p", { "class": "field" }, [
      el("label", { "for": prefix + "correction", text: "Correction note (shown to readers)" }),
      el("input", { id: prefix + "correction", name: "correction", maxlength: "500", "aria-describedby": prefix + "correction-hint" }),
      el("span", { "class": "hint", id: prefix + "correction-hint", text: "Optional: what this edit corrects. Leave it empty for a silent fix, such as a typo." })
    ]));
  }
  const form = el("form", { "class": "edit-form", novalidate: "" }, fields.concat([
    el("p", { "class": "actions" }, [
      el("button", { type: "submit", "class": "primary", text: "Save changes" }),
      el("button", { type: "button", "data-act": "cancel", text: "Cancel" })
    ])
  ]));
  form.headline.value = entry.headline || "";
  form.dataset.version = entry.version;
  return form;
}

// The entry as the edit form has it: the form's headline and texts, other blocks unchanged,
// and its correction note if one was written.
export function editedEntry(entry, form) {
  const edited = {
    headline: form.headline.value.trim() || null,
    blocks: entry.blocks.map(function (block, index) {
      return block.type === "text" ? { type: "text", markdown: form["text-" + index].value } : block;
    })
  };
  const note = form.correction ? form.correction.value.trim() : "";
  if (note) edited.correction = note;
  return edited;
}

export function versions(mine, theirs) {
  function text(version) {
    return (version.headline ? version.headline + "\n\n" : "") + version.blocks.map(function (block) {
      return block.type === "text" ? block.markdown : "[" + block.type + "]";
    }).join("\n\n");
  }
  return el("div", { "class": "versions" }, [
    el("div", { "class": "version version-theirs" }, [el("h4", { text: "Their version (saved)" }), el("pre", { text: text(theirs) })]),
    el("div", { "class": "version version-mine" }, [el("h4", { text: "Your version (not saved)" }), el("pre", { text: text(mine) })])
  ]);
}

export function revisionList(entry, revisions) {
  return el("ol", { "class": "revisions", reversed: "" }, revisions.map(function (revision) {
    const when = new Date(revision.created_at).toLocaleString();
    const words = revision.blocks.map(function (block) { return block.type === "text" ? block.markdown : "[" + block.type + "]"; }).join(" ");
    const restore = revision.version === entry.version ? el("span", { "class": "hint", text: "(current)" }) :
      el("button", { type: "button", "data-act": "restore", "data-revision": JSON.stringify(revision),
                     text: "Restore", "aria-label": "Restore version " + revision.version });
    return el("li", {}, [
      el("p", { text: "Version " + revision.version + ", " + STATUS_NAMES[revision.status].toLowerCase() + ", by " + revision.editor.name + " at " + when }),
      el("p", { "class": "hint", text: (revision.headline ? revision.headline + " — " : "") + words.slice(0, 200) }),
      restore
    ]);
  }));
}
