/*! Boomerang rewards widget. MIT. No dependencies.
 * <script src="https://APP/widget.js" defer data-base="/apps/rewards" data-locale="ar"></script>
 * data-base: the app proxy path (Shopify) or https://APP/widget/v1 with data-shop,
 * data-customer and data-digest (other platforms); on BigCommerce data-shop="store-{hash}",
 * data-platform="bigcommerce" and data-client-id instead of the customer and digest (the
 * shopper is proven by the store's current-customer token). Optional: data-color, data-position
 * (left|right), data-label (the launcher's text before the shop's texts load).
 * Everything lives in a shadow root, fixed to a corner: the page layout never moves. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.Boomerang) return;
  const cfg = script.dataset;
  const base = (cfg.base || "/apps/rewards").replace(/\/$/, "");
  const tag = (cfg.locale || document.documentElement.lang || "en").toLowerCase();
  // The only words shown before the shop's texts arrive (the launcher and "loading").
  const BOOT = {
    en: ["Rewards", "Loading…", "We could not load your rewards.", "Try again", "Close"],
    ar: ["المكافآت", "جارٍ التحميل…", "تعذّر تحميل مكافآتك.", "أعد المحاولة", "إغلاق"],
  };
  const boot = (BOOT[tag.split(/[-_]/)[0]] || BOOT.en).slice();
  if (cfg.label) boot[0] = cfg.label;
  const rtl = boot[4] === BOOT.ar[4];
  const side = cfg.position === "left" || cfg.position === "right" ? cfg.position : null;

  let data = null;
  let loading = null;
  const issued = [];
  // What the shopper typed in the friend's claim form and the server's last answer to it,
  // kept across re-renders.
  const claim = { email: "", error: "" };

  // BigCommerce: the store's own origin vouches for the shopper with a token that lives 15
  // minutes (a guest gets a 404: no token); one is reused for 10 minutes.
  let bc = null;
  const who = () => {
    if (cfg.platform !== "bigcommerce" || !cfg.clientId) return Promise.resolve("");
    if (!bc || Date.now() - bc[1] > 6e5)
      bc = [
        fetch("/customer/current.jwt?app_client_id=" + encodeURIComponent(cfg.clientId)).then(
          (r) => (r.ok ? r.text() : ""),
          () => "",
        ),
        Date.now(),
      ];
    return bc[0];
  };
  const call = (path, query, init) =>
    who().then((token) => {
      const u = new URL(base + path, location.href);
      for (const k of ["shop", "customer", "digest"]) if (cfg[k]) u.searchParams.set(k, cfg[k]);
      for (const [k, v] of Object.entries(query || {})) u.searchParams.set(k, v);
      if (token) u.searchParams.set("bc_token", token.trim());
      return fetch(u, init);
    });
  const post = (path, payload) =>
    call(path, null, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    }).then((res) => res.json().then((json) => [res.ok, json], () => [false, {}]));
  const locale = () => (data ? data.locale : tag);
  const num = (n) => new Intl.NumberFormat(locale()).format(n);
  const day = (s) => new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(new Date(s));
  const t = (key, vals) =>
    ((data && data.texts[key]) || key).replace(/\{(\w+)\}/g, (m, k) => (vals && k in vals ? vals[k] : m));

  // A friend arriving through a referral link (?ref=CODE): the code is remembered for 30 days,
  // or until the discount code they claimed with it expires, so the claim form and the code
  // outlive the landing page. Storage may be refused (private modes): then it lasts this page.
  const REF = "boomerang_ref";
  const keep = (r) => {
    try {
      localStorage.setItem(REF, JSON.stringify(r));
    } catch (e) {}
  };
  let ref = null;
  try {
    ref = JSON.parse(localStorage.getItem(REF));
  } catch (e) {}
  const now = Date.now();
  if (ref && !(ref.expires_at ? now < Date.parse(ref.expires_at) : now - ref.at < 30 * 864e5)) ref = null;
  const arrived = new URLSearchParams(location.search).get("ref");
  // A claimed code stays: the friend's first order is theirs, whatever link they follow next.
  if (/^[A-Za-z0-9]{4,16}$/.test(arrived || "") && !(ref && (ref.discount_code || ref.code === arrived.toUpperCase()))) {
    ref = { code: arrived.toUpperCase(), at: now };
    keep(ref);
  }
  // On Shopify the cart carries the code to the order (note_attributes), which attributes it
  // even when the friend never claims a discount code.
  if (ref && window.Shopify && !ref.cart)
    fetch("/cart/update.js", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ attributes: { boomerang_ref: ref.code } }),
    }).then((r) => r.ok && ((ref.cart = true), keep(ref)), () => {});

  // Elements are built with textContent only: shop texts and titles are never parsed as HTML.
  const h = (name, props, ...kids) => {
    const el = document.createElement(name);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  };

  const CSS = `:host{all:initial}
*{box-sizing:border-box}
.w{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans Arabic",Tahoma,sans-serif;color:#1a1a1a;--a:#5a31f4;--at:#fff}
button,input{font:inherit}
.l,.p{position:fixed;bottom:20px;right:20px;z-index:2147483000}
.left .l,.left .p{right:auto;left:20px}
.l{display:flex;gap:8px;align-items:center;border:0;border-radius:999px;padding:12px 18px;background:var(--a);color:var(--at);font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.2)}
.l svg{width:20px;height:20px}
.p{bottom:84px;width:370px;max-width:calc(100vw - 24px);max-height:min(640px,calc(100vh - 108px));overflow:auto;background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28)}
.p[hidden]{display:none}
header{position:sticky;top:0;display:flex;justify-content:space-between;align-items:center;padding:14px 16px;background:var(--a);color:var(--at)}
h2{margin:0;font-size:18px}
h3{margin:18px 0 8px;font-size:15px}
.x{background:none;border:0;color:inherit;font-size:22px;line-height:1;padding:4px 8px;cursor:pointer}
.b{padding:4px 16px 16px}
.big{font-size:32px;font-weight:700;margin:12px 0 0}
.m{color:#555;font-size:13px;margin:4px 0}
ul{list-style:none;margin:0;padding:0}
li{border:1px solid #e3e3e8;border-radius:10px;padding:10px 12px;margin:8px 0}
li p{margin:2px 0}
.row{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin-top:8px}
.btn{border:0;border-radius:8px;padding:8px 14px;background:var(--a);color:var(--at);font-weight:600;cursor:pointer;text-decoration:none;display:inline-block}
.sec{background:#f1f1f4;color:#1a1a1a}
.nps .btn{min-width:2.4em;padding:6px 0;text-align:center}
.btn[disabled]{opacity:.6;cursor:wait}
input{width:7em;padding:6px;border:1px solid #888;border-radius:6px}
label{display:block;margin:8px 0 4px}
.wide{width:100%}
.code{font:600 18px/1.3 ui-monospace,Menlo,Consolas,monospace;letter-spacing:1px;direction:ltr;unicode-bidi:embed}
.issued{border-color:var(--a);border-width:2px}
.err{color:#a00;font-weight:600}
.d{font-weight:600}
.n{direction:ltr;unicode-bidi:isolate}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;background:var(--a);color:var(--at);font-size:13px;font-weight:600}
.tier{margin-top:12px}
.bar{height:8px;border-radius:4px;background:#e3e3e8;overflow:hidden;margin:8px 0 4px}
.bar i{display:block;height:100%;background:var(--a)}
.pk li{border:0;padding:0;margin:2px 0}
.pk li:before{content:"✓ ";color:var(--a)}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
@media (max-width:480px){.p{left:0;right:0;bottom:0;width:100%;max-width:none;max-height:85vh;border-radius:14px 14px 0 0}}
@media (prefers-reduced-motion:no-preference){.p{transition:opacity .15s}}`;

  const ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M20 7h-2.2A3 3 0 0 0 12 3.8 3 3 0 0 0 6.2 7H4a1 1 0 0 0-1 1v3a1 1 0 0 0 1 1h1v8a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-8h1a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1Zm-5-2a1 1 0 1 1 0 2h-2V6a1 1 0 0 1 2-1ZM9 5a1 1 0 0 1 2 1v1H9a1 1 0 0 1 0-2Zm2 15H7v-8h4Zm0-10H5V9h6Zm6 10h-4v-8h4Zm2-10h-6V9h6Z"/></svg>';

  const host = h("div", { id: "boomerang-rewards" });
  const root = host.attachShadow({ mode: "open" });
  const shell = h("div", { class: "w" + (side === "left" ? " left" : "") });
  const launcher = h("button", {
    class: "l",
    type: "button",
    "aria-haspopup": "dialog",
    "aria-expanded": "false",
    "aria-controls": "bmr-panel",
  });
  launcher.innerHTML = ICON; // a constant, never data
  const label = h("span", {}, boot[0]);
  launcher.append(label);
  const title = h("h2", { id: "bmr-title" }, boot[0]);
  const close = h("button", { class: "x", type: "button", "aria-label": boot[4] }, "×");
  const body = h("div", { class: "b", "aria-live": "polite" });
  const panel = h(
    "div",
    { class: "p", id: "bmr-panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "bmr-title", hidden: true },
    h("header", {}, title, close),
    body,
  );
  if (rtl) panel.dir = "rtl";
  if (cfg.color) shell.style.setProperty("--a", cfg.color);
  shell.append(launcher, panel);
  root.append(h("style", {}, CSS), shell);

  const isOpen = () => !panel.hidden;
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    close.focus();
    if (!data) load();
  }
  function hide() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", () => (isOpen() ? hide() : open()));
  close.addEventListener("click", hide);
  // Keyboard: Escape closes; Tab and Shift+Tab stay inside the open panel.
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") return hide();
    if (e.key !== "Tab") return;
    const items = [...panel.querySelectorAll("button,a[href],input,[tabindex]")].filter(
      (el) => !el.disabled && el.getClientRects().length,
    );
    const first = items[0];
    const last = items[items.length - 1];
    const here = root.activeElement;
    if (e.shiftKey && here === first) (e.preventDefault(), last.focus());
    else if (!e.shiftKey && here === last) (e.preventDefault(), first.focus());
  });

  function load() {
    if (loading) return loading;
    if (!data) body.replaceChildren(h("p", { class: "m" }, boot[1]));
    loading = call("/state", { locale: tag }, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((json) => {
        data = json;
        render();
      })
      .catch(() => {
        if (data) return;
        body.replaceChildren(
          h("p", { class: "err", role: "alert" }, boot[2]),
          h("button", { class: "btn", type: "button", onclick: load }, boot[3]),
        );
      })
      .finally(() => (loading = null));
    return loading;
  }

  function look() {
    const w = data.widget;
    if (!cfg.color) shell.style.setProperty("--a", w.accent_color);
    shell.style.setProperty("--at", w.accent_text_color);
    if (!side) shell.classList.toggle("left", w.position === "left");
    panel.dir = data.dir;
    panel.lang = data.locale;
    label.textContent = t("launcher");
    title.textContent = t("title");
    close.setAttribute("aria-label", t("close"));
  }

  function render() {
    look();
    const m = data.member;
    const focused = root.activeElement && root.activeElement.dataset.k;
    const offer = data.referral;
    const parts = [
      offer && ref && !(m && m.referral_code === ref.code) ? friend(offer) : null,
      m ? member(m) : guest(),
      m && (said || (data.nps && data.nps.ask)) ? survey() : null,
      issued.length ? codes() : null,
      offer && m && m.referral_url ? referrer(m.referral_url, offer) : null,
      h("h3", {}, t("rewards")),
      h("ul", {}, data.rewards.map((r) => reward(r, m))),
      h("h3", {}, t("ways_to_earn")),
      h(
        "ul",
        {},
        data.ways_to_earn.map((w) => h("li", {}, h("p", {}, w.title), h("p", { class: "m" }, "+" + num(w.points)))),
      ),
      m ? history() : null,
    ];
    // replaceChildren would print a null as "null": drop the empty parts.
    body.replaceChildren(...parts.flat().filter(Boolean));
    const again = focused && body.querySelector(`[data-k="${focused}"]`);
    if (again) again.focus();
  }

  // The NPS question (a member with two orders, once per 90 days): one tap answers it.
  let said = false;
  function survey() {
    if (said) return h("p", { class: "d", role: "status" }, t("nps_thanks"));
    const send = (e, n) => {
      e.currentTarget.disabled = true;
      post("/nps", { score: n }).then(([ok, json]) => {
        // Answered already (another tab): thank all the same.
        said = ok || (json.error && json.error.code) === "conflict";
        render();
      });
    };
    return h(
      "section",
      { class: "nps" },
      h("h3", {}, t("nps_question")),
      h(
        "div",
        { class: "row" },
        [...Array(11).keys()].map((n) =>
          h("button", { class: "btn sec", type: "button", "data-k": "nps" + n, onclick: (e) => send(e, n) }, num(n)),
        ),
      ),
      h("p", { class: "m" }, "0 = " + t("nps_low") + " · 10 = " + t("nps_high")),
    );
  }

  function guest() {
    const w = data.widget;
    return h(
      "section",
      {},
      h("h3", {}, t("guest_heading")),
      h("p", {}, t("guest_body")),
      h(
        "div",
        { class: "row" },
        h("a", { class: "btn", href: w.join_url }, t("join")),
        h("a", { class: "btn sec", href: w.login_url }, t("sign_in")),
      ),
    );
  }

  function member(m) {
    return h(
      "section",
      {},
      h("p", { class: "big" }, num(m.points_balance)),
      h("p", { class: "m" }, t("balance")),
      m.tier || m.next_tier ? tier(m) : null,
      m.pending.map((p) =>
        h("p", {}, t("pending_line", { n: num(p.points), date: p.confirms_at ? day(p.confirms_at) : "" })),
      ),
      m.pending.length ? h("p", { class: "m" }, t("pending_note")) : null,
    );
  }

  // Minor units shown like the rewards' amounts: "5.00 USD".
  const money = (minor) => {
    const e = data.currency_exponent;
    return (minor / 10 ** e).toFixed(e) + " " + data.currency;
  };

  // The member's tier: badge, progress to the next in the basis's unit (points, money or
  // orders), what keeps it through a grace, and its perks.
  function tier(m) {
    const unit = { amount_spent: "_amount", orders: "_orders" }[m.tier_basis] || "";
    const vals = (n, more) => Object.assign({ n: num(n), amount: money(n) }, more);
    const max = m.next_tier_threshold;
    const next = m.next_tier_name && max != null;
    const now = Math.min(m.tier_standing, max);
    const left = next ? t("next_tier" + unit, vals(m.to_next_tier, { tier: m.next_tier_name })) : "";
    const fill = h("i");
    // Set through the CSSOM: storefront CSPs may refuse style attributes.
    fill.style.width = (max > 0 ? (100 * now) / max : 100) + "%";
    return h(
      "div",
      { class: "tier" },
      m.tier_name ? h("p", {}, h("span", { class: "badge" }, t("tier", { tier: m.tier_name }))) : null,
      next
        ? [
            h(
              "div",
              {
                class: "bar",
                role: "progressbar",
                "aria-label": t("tier_progress", { tier: m.next_tier_name }),
                "aria-valuemin": 0,
                "aria-valuemax": max,
                "aria-valuenow": now,
                "aria-valuetext": left,
              },
              fill,
            ),
            h("p", { class: "m" }, left),
          ]
        : h("p", { class: "m" }, t("tier_top")),
      m.to_keep_tier > 0 && m.tier_review_at
        ? h(
            "p",
            { class: "m keep" },
            // A calendar day: read at local noon so no time zone moves it to the day before.
            t("keep_tier" + unit, vals(m.to_keep_tier, { tier: m.tier_name, date: day(m.tier_review_at + "T12:00") })),
          )
        : null,
      m.tier_perks.length
        ? [h("p", { class: "m" }, t("tier_perks", { tier: m.tier_name })), h("ul", { class: "pk" }, m.tier_perks.map((p) => h("li", {}, p)))]
        : null,
    );
  }

  // The member's own link: copy it or, where the device can, share it.
  function referrer(link, offer) {
    const vals = { offer: offer.friend_offer, n: num(offer.referrer_points) };
    const said = h("p", { class: "m", role: "status" });
    const field = h("input", { class: "wide", id: "bmr-link", dir: "ltr", readonly: true, value: link, "data-k": "link", onfocus: (e) => e.target.select() });
    const share = () =>
      navigator.share({ title: t("friend_heading", vals), text: t("referral_share_text", vals), url: link }).catch(() => {});
    return h(
      "section",
      {},
      h("h3", {}, t("referral_heading", vals)),
      h("p", {}, t("referral_body", vals)),
      h("label", { class: "m", for: "bmr-link" }, t("referral_link")),
      field,
      h(
        "div",
        { class: "row" },
        h("button", { class: "btn", type: "button", "data-k": "copy-link", onclick: () => copy(link, () => (said.textContent = t("referral_copied")), field) }, t("referral_copy")),
        navigator.share ? h("button", { class: "btn sec", type: "button", "data-k": "share", onclick: share }, t("referral_share")) : null,
      ),
      said,
    );
  }

  // The friend's side: the offer and an e-mail form, then the code they got (kept for later visits).
  function friend(offer) {
    const sec = h("section", {}, h("h3", {}, t("friend_heading", { offer: offer.friend_offer })));
    if (ref.discount_code) {
      const code = ref.discount_code;
      const button = h("button", { class: "btn", type: "button", "data-k": "copy-ref", onclick: () => copy(code, () => (button.textContent = t("copied"))) }, t("copy"));
      sec.append(
        h("p", { class: "d", role: "status" }, t("friend_code", { code })),
        h("p", { class: "m" }, t("friend_code_expires", { date: day(ref.expires_at) })),
        h("div", { class: "row" }, button),
      );
      return sec;
    }
    const note = h("p", { class: "err", id: "bmr-claim-err", role: "alert" }, claim.error);
    const send = h("button", { class: "btn", type: "submit", "data-k": "claim" }, t("friend_claim"));
    const email = h("input", {
      class: "wide",
      id: "bmr-email",
      type: "email",
      autocomplete: "email",
      dir: "ltr",
      required: true,
      value: claim.email,
      "data-k": "email",
      "aria-describedby": "bmr-claim-err",
      "aria-invalid": claim.error ? "true" : null,
      oninput: (e) => (claim.email = e.target.value),
    });
    const submit = (e) => {
      e.preventDefault();
      send.disabled = true;
      post("/referrals/claim", { code: ref.code, email: claim.email.trim() })
        .then(([ok, json]) => {
          if (!ok) throw json.error && json.error.message;
          claim.error = "";
          ref.discount_code = json.discount_code;
          ref.expires_at = json.expires_at;
          keep(ref);
          render();
          root.querySelector('[data-k="copy-ref"]').focus();
        })
        .catch((message) => {
          // The form stays as typed; the server's reason is said beside it.
          note.textContent = claim.error = typeof message === "string" ? message : t("err_generic");
          email.setAttribute("aria-invalid", "true");
          send.disabled = false;
        });
    };
    sec.append(
      h("p", {}, t("friend_body")),
      offer.conditions ? h("p", { class: "m" }, offer.conditions) : null,
      // novalidate: the server's message explains a bad address in the shop's language of choice.
      h(
        "form",
        { novalidate: true, onsubmit: submit },
        h("label", { for: "bmr-email" }, t("friend_email")),
        email,
        h("div", { class: "row" }, send),
        note,
      ),
    );
    return sec;
  }

  function codes() {
    return h("ul", {}, issued.map((c) => (c.thanks ? thanksItem(c) : codeItem(c))));
  }

  function thanksItem(c) {
    return h("li", { class: "issued" }, h("p", { class: "m" }, c.title), h("p", { class: "d", role: "status" }, c.thanks));
  }

  function codeItem(c) {
    const button = h("button", { class: "btn", type: "button", "data-k": "copy-" + c.code, onclick: () => copy(c.code, () => (button.textContent = t("copied"))) }, t("copy"));
    return h(
      "li",
      { class: "issued" },
      h("p", { class: "m" }, t("your_code") + " · " + c.title),
      h("p", { class: "code", "data-code": "" }, c.code),
      h("p", { class: "m" }, t("code_help", { date: day(c.expires_at) })),
      h("div", { class: "row" }, button),
    );
  }

  // Copies `text`, then calls `done`; without the async clipboard (or its permission), the old
  // select-and-copy way, in `field` when the text is shown in one: if even that fails, the text
  // is left selected there for the shopper to copy.
  function copy(text, done, field) {
    const fallback = () => {
      const box = field || root.appendChild(h("textarea", { readonly: true, style: "position:fixed;opacity:0" }, text));
      box.select();
      try {
        if (document.execCommand("copy")) done();
      } finally {
        if (!field) box.remove();
      }
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }

  function reward(r, m) {
    const min = r.min_points || r.points_cost;
    const action = h("div", { class: "row" });
    const item = h(
      "li",
      {},
      h("p", {}, h("strong", {}, r.title)),
      r.description !== r.title ? h("p", { class: "m" }, r.description) : null,
      r.conditions ? h("p", { class: "m" }, r.conditions) : null,
      r.tier_name ? h("p", {}, h("span", { class: "badge" }, t("tier_only", { tier: r.tier_name }))) : null,
      h("p", { class: "d" }, t("points", { n: num(min) })),
      action,
    );
    if (!m) return item;
    if (!r.affordable) {
      // Enough points but below the reward's tier: its badge says why.
      if (min > m.points_balance) action.append(h("p", { class: "m" }, t("need_more", { n: num(min - m.points_balance) })));
      return item;
    }
    const ask = () => {
      let points = null;
      const input = r.kind === "variable"
        ? h("input", {
            type: "number",
            min: r.min_points,
            max: Math.min(r.max_points, m.points_balance - (m.points_balance % r.points_per_unit)),
            step: r.points_per_unit,
            value: r.min_points,
            "aria-label": t("choose_points"),
          })
        : null;
      const spend = () => (input ? Number(input.value) : r.points_cost);
      const yes = h("button", { class: "btn", type: "button", "data-k": "yes-" + r.id }, t("confirm", { n: num(spend()) }));
      if (input) input.addEventListener("input", () => (yes.textContent = t("confirm", { n: num(spend()) })));
      yes.addEventListener("click", () => {
        if (input) points = spend();
        redeem(r, points, action, yes);
      });
      const no = h("button", { class: "btn sec", type: "button", onclick: () => (action.replaceChildren(start), start.focus()) }, t("cancel"));
      action.replaceChildren(input || "", yes, no);
      (input || yes).focus();
    };
    const start = h("button", { class: "btn", type: "button", "data-k": "r-" + r.id, onclick: ask }, t("redeem"));
    action.append(start);
    return item;
  }

  function redeem(r, points, action, button) {
    button.disabled = true;
    action.append(h("p", { class: "m", role: "status" }, t("redeeming")));
    post("/redeem", points == null ? { reward_id: r.id } : { reward_id: r.id, points })
      .then(([ok, json]) => {
        if (!ok) throw (json.error && json.error.code) || "error";
        // A donation or custom reward has no code: the owner fulfils it; say so.
        issued.unshift(
          json.fulfilment_id
            ? { thanks: r.confirmation || t("thanks_custom"), title: r.title }
            : { code: json.code, expires_at: json.expires_at, title: r.title },
        );
        return load();
      })
      .then(() => {
        const copyButton = root.querySelector(".issued button");
        if (copyButton) copyButton.focus();
      })
      .catch((code) => {
        const key =
          code === "insufficient_points" ? "err_insufficient"
          : code === "platform_error" || code === "unavailable" ? "err_platform"
          : "err_generic";
        action.replaceChildren(h("p", { class: "err", role: "alert" }, t(key)));
        load();
      });
  }

  function history() {
    const lines = data.history;
    return [
      h("h3", {}, t("history")),
      lines.length
        ? h(
            "ul",
            {},
            lines.map((l) =>
              h(
                "li",
                {},
                h("p", {}, h("span", { class: "d n" }, (l.delta > 0 ? "+" : "") + num(l.delta)), " · ", t("h_" + l.kind)),
                l.reason ? h("p", { class: "m" }, l.reason) : null,
                h(
                  "p",
                  { class: "m" },
                  l.status === "pending" && l.confirms_at ? t("pending_until", { date: day(l.confirms_at) }) : day(l.created_at),
                ),
              ),
            ),
          )
        : h("p", { class: "m" }, t("no_history")),
    ];
  }

  const mount = () => document.body.append(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  window.Boomerang = { open, close: hide, refresh: () => (data ? load() : null) };
})();
