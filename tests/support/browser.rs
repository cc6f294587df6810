//! Headless Chromium for the workspace's browser tests, driven through Debian's chromedriver with
//! the fantoccini WebDriver client. [`Browser::start`] returns `None` (and prints
//! `SKIPPED (browser)`) when no browser is installed, unless `PEREZVON_TEST_REQUIRE_BROWSER=1` (CI),
//! where a missing browser fails the test. Screenshots go to `target/screenshots/`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at 1366×768.
    pub async fn start() -> Option<Browser> {
        let chromium = find(
            "PEREZVON_TEST_CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let driver = find("PEREZVON_TEST_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            if std::env::var("PEREZVON_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("PEREZVON_TEST_REQUIRE_BROWSER=1 but chromium or chromedriver is missing");
            }
            eprintln!("SKIPPED (browser): install chromium and chromium-driver to run this test");
            return None;
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        // Its own process group, so that stopping it also stops the Chromium it started, even
        // when a test panics before closing the session.
        let child = Command::new(driver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,768", "--lang=ru-RU", "--autoplay-policy=no-user-gesture-required"]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver: child,
                    });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot reach chromedriver: {last:?}");
    }

    /// Writes a PNG of the page to `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Waits (up to 10 s) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}`: {e}"))
    }

    /// Clicks the element matching `css`, finding it again when the page re-rendered it between
    /// finding and clicking (up to 10 s).
    pub async fn click(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..100 {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => match e.click().await {
                    Ok(()) => return,
                    Err(err) => last = err.to_string(),
                },
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot click `{css}`: {last}");
    }

    /// The attribute `name` of the first element matching `css`, once there is one (up to 10 s).
    pub async fn attr(&self, css: &str, name: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e ? e.getAttribute(arguments[1]) : null;";
        for _ in 0..100 {
            let v = self
                .client
                .execute(script, vec![css.into(), name.into()])
                .await
                .unwrap();
            if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                return v.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no `{css}` with attribute {name}");
    }

    /// Waits (up to 10 s) until `check` holds for the page's text of `css`.
    pub async fn wait_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for _ in 0..100 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                text = e.text().await.unwrap_or_default();
                if check(&text) {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` never matched; last text: {text:?}");
    }

    /// Fills the sign-in form at `base` and submits it.
    pub async fn sign_in(&self, base: &str, login: &str, password: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.wait_for("input[name=login]")
            .await
            .send_keys(login)
            .await
            .unwrap();
        self.wait_for("input[name=password]")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.wait_for("form[action='/login'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
    }

    /// Ends the browser session and stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Kills chromedriver and every process of its group (the browser).
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop();
    }
}
