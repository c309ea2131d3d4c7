//! Driving the sandbox gateway's hosted pages like a browser would.

use super::TestApp;

/// The absolute URL a redirect points to.
pub fn location(app: &TestApp, resp: &reqwest::Response) -> String {
    let loc = resp.headers().get("location").expect("Location header").to_str().unwrap();
    if loc.starts_with("http") {
        loc.to_string()
    } else {
        app.url(loc)
    }
}

pub fn path_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().to_string()
}

impl TestApp {
    /// Pays `order_id` on the sandbox checkout page; answers a 3DS challenge with `code`.
    pub async fn pay_with_card(&self, order_id: &str, card: &str, code: &str) {
        let browser = self.customer();
        let form = [("card_number", card), ("exp", "12/30"), ("cvc", "123")];
        let url = self.url(&format!("/sandbox/checkout/{order_id}"));
        let resp = browser.client.post(url).form(&form).send().await.unwrap();
        // A decline may be answered with an error page (e.g. 402); only a 5xx is wrong here.
        assert!(!resp.status().is_server_error(), "checkout {card}: {}", resp.status());
        if resp.status() == 303 {
            let next = location(self, &resp);
            if path_of(&next).starts_with("/sandbox/3ds/") {
                let resp = browser.client.post(&next).form(&[("code", code)]).send().await.unwrap();
                assert!(!resp.status().is_server_error(), "3ds {card}: {}", resp.status());
            }
        }
    }
}
