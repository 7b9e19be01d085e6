//! End to end in a real browser: headless Chromium (Debian's `chromium` and `chromedriver`)
//! opens `/demo`, opens the widget, redeems a reward and sees the code, in English and in
//! Arabic (right to left), with the keyboard behaviour of a modal dialog. Screenshots are kept
//! in `target/tmp/e2e/` as test artifacts.
//!
//! Without Chromium on the machine the tests say so and pass, so `cargo test` works anywhere;
//! `.ci/run` installs Chromium and sets `BOOMERANG_E2E=required`, which turns a missing
//! browser into a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

use crate::helpers::TestApp;

mod admin_program;
mod admin_ui;
mod bigcommerce;
mod nps;
mod referrals;
mod tiers;

/// A chromedriver process on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Starts chromedriver, or says why the test cannot run here.
fn driver() -> Option<(Driver, PathBuf)> {
    let chromedriver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        assert!(
            std::env::var("BOOMERANG_E2E").as_deref() != Ok("required"),
            "BOOMERANG_E2E=required but chromium/chromedriver are not installed \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!("SKIPPED: the browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Wait for it to listen.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((driver, chromium))
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-US"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a chromium session")
}

/// Runs `script` (with `root` = the widget's shadow root) until it returns something truthy.
async fn wait_for(client: &Client, what: &str, script: &str) -> Value {
    let wrapped = format!(
        "const host = document.getElementById('boomerang-rewards');
         if (!host) return null;
         const root = host.shadowRoot;
         {script}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let value = client.execute(&wrapped, vec![]).await.unwrap();
        if !value.is_null() && value != json!(false) && value != json!("") {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An element inside the widget's shadow root, as a WebDriver element (real clicks and keys).
async fn element(client: &Client, what: &str, selector: &str) -> Element {
    let value = wait_for(
        client,
        what,
        &format!("return root.querySelector({});", json!(selector)),
    )
    .await;
    let id = value
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{what} is not an element: {value}"));
    Element::from_element_id(client.clone(), ElementRef::from(id.to_owned()))
}

/// Finds and clicks an element of the widget. The widget re-renders its panel when fresh state
/// arrives (it shows what it had first), so an element found a moment earlier may be replaced
/// before the click lands: find it again then, as a shopper's second look would.
async fn click(client: &Client, what: &str, selector: &str) {
    for _ in 0..5 {
        match element(client, what, selector).await.click().await {
            Ok(_) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("clicking {what}: {e}"),
        }
    }
    panic!("{what} kept being replaced before it could be clicked");
}

/// Clicks an element of the widget if it is there now; false when it is not, or was replaced or
/// covered before the click landed (a re-render), so the caller can bring it back.
async fn click_if_there(client: &Client, selector: &str) -> bool {
    let script = format!(
        "const host = document.getElementById('boomerang-rewards');
         return host && host.shadowRoot.querySelector({});",
        json!(selector)
    );
    let value = client.execute(&script, vec![]).await.unwrap();
    let Some(id) = value
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
    else {
        return false;
    };
    let element = Element::from_element_id(client.clone(), ElementRef::from(id.to_owned()));
    match element.click().await {
        Ok(_) => true,
        Err(fantoccini::error::CmdError::Standard(e))
            if matches!(
                e.error,
                fantoccini::error::ErrorStatus::StaleElementReference
                    | fantoccini::error::ErrorStatus::ElementNotInteractable
                    | fantoccini::error::ErrorStatus::ElementClickIntercepted
            ) =>
        {
            false
        }
        Err(e) => panic!("clicking {selector}: {e}"),
    }
}

/// Whether an element of the widget shows up within two seconds.
async fn appears(client: &Client, selector: &str) -> bool {
    let script = format!(
        "return !!document.getElementById('boomerang-rewards').shadowRoot.querySelector({});",
        json!(selector)
    );
    for _ in 0..40 {
        if client.execute(&script, vec![]).await.ok() == Some(json!(true)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn focused(client: &Client) -> Value {
    client
        .execute(
            "const a = document.getElementById('boomerang-rewards').shadowRoot.activeElement;
             return a ? (a.dataset.k || a.className) : null;",
            vec![],
        )
        .await
        .unwrap()
}

/// Every text the panel shows is filled in: no "null", "undefined" or unfilled `{placeholder}`.
async fn assert_clean_text(client: &Client) {
    let text = client
        .execute(
            "return document.getElementById('boomerang-rewards').shadowRoot.querySelector('[role=dialog]').innerText;",
            vec![],
        )
        .await
        .unwrap();
    let text = text.as_str().unwrap();
    for bad in ["null", "undefined", "NaN", "{", "}"] {
        assert!(!text.contains(bad), "the panel shows {bad:?}:\n{text}");
    }
}

fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

struct Expect {
    lang: &'static str,
    dir: &'static str,
    launcher: &'static str,
    /// Ada's balance after spending 500 of her 2,400 points.
    balance_after: i64,
    /// What the panel says of the 180 pending points of the demo order (120 dollars at Gold's
    /// 1.5 points per dollar).
    pending: &'static str,
    /// Ada's tier badge.
    tier: &'static str,
}

async fn redeem_in_the_demo(expect: Expect) {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        client
            .goto(&app.url(&format!("/demo?as=7001&lang={}", expect.lang)))
            .await
            .unwrap();
        // A demo order of 120 USD, signed by the app and delivered by the page to
        // /webhooks/shopify, as Shopify would.
        client
            .find(fantoccini::Locator::Css("#demo-order button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let status = client
            .wait()
            .for_element(fantoccini::Locator::XPath(
                "//p[@id='demo-order-status'][contains(., 'HTTP 200 accepted')]",
            ))
            .await
            .expect("the demo order is accepted");
        println!("{}", status.text().await.unwrap());

        let launcher = element(&client, "the launcher", "button.l").await;
        assert_eq!(launcher.text().await.unwrap().trim(), expect.launcher);
        assert_eq!(
            launcher.attr("aria-expanded").await.unwrap().as_deref(),
            Some("false")
        );

        launcher.click().await.unwrap();
        assert_eq!(
            launcher.attr("aria-expanded").await.unwrap().as_deref(),
            Some("true")
        );
        let panel = element(&client, "the panel", "[role=dialog]").await;
        // Direction and language are the server's answer: wait for the data.
        wait_for(
            &client,
            "the shopper's data",
            "return root.querySelector('[role=dialog]').lang;",
        )
        .await;
        assert_eq!(
            panel.attr("aria-modal").await.unwrap().as_deref(),
            Some("true")
        );
        assert_eq!(
            panel.attr("dir").await.unwrap().as_deref(),
            Some(expect.dir)
        );
        assert_eq!(
            panel.attr("lang").await.unwrap().as_deref(),
            Some(expect.lang)
        );
        assert_eq!(
            focused(&client).await,
            json!("x"),
            "focus moves to the close button"
        );

        // Redeem "5 off" (500 of Ada's 2,400 points): ask, confirm, see the code.
        // The panel may re-render with fresh state at any moment, before or after the confirm
        // button shows, and drop the confirmation: ask again until a click on it lands.
        let mut confirmed = false;
        for _ in 0..5 {
            click(&client, "the redeem button", "[data-k='r-5-off']").await;
            if appears(&client, "[data-k='yes-5-off']").await
                && click_if_there(&client, "[data-k='yes-5-off']").await
            {
                confirmed = true;
                break;
            }
        }
        assert!(confirmed, "the confirm button was never clicked");
        let code = wait_for(
            &client,
            "the code",
            "const c = root.querySelector('[data-code]'); return c && c.textContent;",
        )
        .await;
        let code = code.as_str().unwrap().to_owned();
        let shape = code.split('-').collect::<Vec<_>>();
        assert_eq!(shape.len(), 3, "{code}");
        assert!(shape[1..].iter().all(|g| g.len() == 5), "{code}");
        // The balance, in the shopper's numerals ("1,900", or "١٬٩٠٠" in Arabic).
        let balance = wait_for(
            &client,
            "the new balance",
            &format!(
                "const b = root.querySelector('.big');
                 const want = new Intl.NumberFormat({lang}).format({n});
                 return b && b.textContent === want && b.textContent;",
                lang = json!(expect.lang),
                n = expect.balance_after
            ),
        )
        .await;
        println!("balance shown: {balance}");
        assert_eq!(
            focused(&client).await,
            json!(format!("copy-{code}")),
            "focus on Copy"
        );
        assert_clean_text(&client).await;
        // Gold is the top tier: the badge, and no bar to a next one.
        let badge = wait_for(
            &client,
            "Ada's tier",
            "const b = root.querySelector('.tier .badge'); return b && b.textContent;",
        )
        .await;
        assert_eq!(badge, json!(expect.tier));
        assert_eq!(
            client
                .execute(
                    "return document.getElementById('boomerang-rewards').shadowRoot.querySelectorAll('[role=progressbar]').length;",
                    vec![],
                )
                .await
                .unwrap(),
            json!(0)
        );
        wait_for(
            &client,
            "the pending points of the demo order",
            &format!(
                "return root.querySelector('[role=dialog]').innerText.includes({});",
                json!(expect.pending)
            ),
        )
        .await;
        std::fs::write(
            artifact(&format!("widget-{}.png", expect.lang)),
            client.screenshot().await.unwrap(),
        )
        .unwrap();

        // The code is the one the ledger and the redemption record hold.
        let stored = app
            .with_db(|c| {
                use boomerang::db::schema::redemptions;
                use diesel::prelude::*;
                redemptions::table
                    .select((redemptions::code, redemptions::status))
                    .load::<(String, String)>(c)
                    .unwrap()
            })
            .await;
        assert_eq!(stored, vec![(code.clone(), "issued".to_owned())]);

        // Keyboard: Tab cycles inside the open panel; Escape closes and returns focus.
        let mut seen = Vec::new();
        for _ in 0..40 {
            client
                .active_element()
                .await
                .unwrap()
                .send_keys(&Key::Tab.to_string())
                .await
                .unwrap();
            let now = focused(&client).await;
            assert!(!now.is_null(), "focus left the panel after {seen:?}");
            seen.push(now);
        }
        assert!(
            seen.contains(&json!("x")),
            "Tab wraps back to the close button"
        );
        client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Escape.to_string())
            .await
            .unwrap();
        assert_eq!(panel.attr("hidden").await.unwrap().as_deref(), Some("true"));
        assert_eq!(
            focused(&client).await,
            json!("l"),
            "focus back on the launcher"
        );
    }
    .await;
    client.close().await.unwrap();
    result
}

#[tokio::test]
async fn a_shopper_redeems_a_reward_in_the_demo_storefront_in_english() {
    redeem_in_the_demo(Expect {
        lang: "en",
        dir: "ltr",
        launcher: "Rewards",
        balance_after: 1900,
        pending: "180 points become spendable on",
        tier: "Gold member",
    })
    .await;
}

#[tokio::test]
async fn a_shopper_redeems_a_reward_in_the_demo_storefront_in_arabic_right_to_left() {
    redeem_in_the_demo(Expect {
        lang: "ar",
        dir: "rtl",
        launcher: "المكافآت",
        balance_after: 1900,
        pending: "نقطة تصبح قابلة للاستبدال في",
        tier: "عضو الذهبي",
    })
    .await;
}

#[tokio::test]
async fn a_guest_is_shown_how_to_join_and_nothing_to_redeem() {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        client.goto(&app.url("/demo?as=guest")).await.unwrap();
        // The widget never moves the page: the host adds no box to the document flow.
        let before = client
            .execute("return document.body.scrollHeight;", vec![])
            .await
            .unwrap();
        element(&client, "the launcher", "button.l")
            .await
            .click()
            .await
            .unwrap();
        let join = element(&client, "the join link", "a.btn").await;
        assert_eq!(join.attr("href").await.unwrap().as_deref(), Some("/account/register"));
        let redeem_buttons = client
            .execute(
                "return document.getElementById('boomerang-rewards').shadowRoot.querySelectorAll('[data-k^=r-]').length;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(redeem_buttons, json!(0));
        let after = client
            .execute("return document.body.scrollHeight;", vec![])
            .await
            .unwrap();
        assert_eq!(before, after, "opening the widget changed the page layout");
        assert_clean_text(&client).await;
        std::fs::write(artifact("widget-guest.png"), client.screenshot().await.unwrap()).unwrap();
    }
    .await;
    client.close().await.unwrap();
    result
}
