//! A localstripe server per test on a free loopback port, stopped when the
//! test ends, and webhook headers signed by the official `stripe` package.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct LocalStripe {
    pub base: String,
    child: Child,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const KEY: &str = "sk_test_livemall";

/// The Python packages the Stripe tests talk to, pinned; `.ci/run` installs
/// the same versions.
const PACKAGES: [&str; 2] = ["localstripe==1.15.10", "stripe==16.1.0"];

/// Installs the packages once per test run when they are missing, so plain
/// `cargo test` needs nothing else.
fn ensure_packages() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let present = Command::new("python3")
            .args(["-c", "import localstripe, stripe"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !present {
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(PACKAGES)
                .status()
                .expect("python3 runs");
            assert!(status.success(), "pip install {PACKAGES:?} failed");
        }
    });
}

impl LocalStripe {
    /// Starts localstripe on a free port; a start that dies (the port was
    /// taken meanwhile) is tried again on another port.
    pub async fn start() -> LocalStripe {
        tokio::task::spawn_blocking(ensure_packages).await.unwrap();
        let client = reqwest::Client::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new("python3")
                .args(["-m", "localstripe", "--port", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 runs (pip install localstripe stripe)");
            let base = format!("http://127.0.0.1:{port}");
            // Python starts slowly on a busy machine (the whole suite runs at once).
            for _ in 0..1200 {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                let up = client
                    .get(format!("{base}/v1/customers"))
                    .basic_auth(KEY, Some(""))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                if up.is_ok_and(|r| r.status().is_success()) {
                    return LocalStripe { base, child };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("localstripe did not start");
    }

    /// A card payment method made directly at the fake Stripe, as Stripe.js would.
    pub async fn card(&self, number: &str) -> String {
        let r: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/payment_methods", self.base))
            .basic_auth(KEY, Some(""))
            .form(&[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2031"),
                ("card[cvc]", "123"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["id"].as_str().unwrap().to_string()
    }
}

/// `Stripe-Signature` for `payload`, from `stripe.WebhookSignature`.
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    ensure_packages();
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, stripe; print(stripe.WebhookSignature.generate_signature_header(sys.argv[1], sys.argv[2], int(sys.argv[3])))",
            payload,
            secret,
            &timestamp.to_string(),
        ])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
