//! `GET /embed.js`: the snippet a merchant pastes into a Tilda HTML block, Ecwid or any page;
//! it opens `/buy/{slug}` (see `assets/embed.js`). Served with this instance's public URL and
//! the merchant's `embed_target` baked in, loadable from any origin. `GET /assets/back.js`:
//! the error pages' "Go back".

use poem::web::Data;
use poem::{handler, Response};

use crate::state::AppState;

/// The snippet for this instance.
pub fn embed_script(public_url: &str, target: &str) -> String {
    // JSON string literals are JavaScript string literals; `<` is escaped so no `</script>`.
    let literal = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()).replace('<', "\\u003c");
    include_str!("../../assets/embed.js")
        .replace("\"__KEYTURN_BASE__\"", &literal(public_url))
        .replace("\"__KEYTURN_TARGET__\"", &literal(target))
}

/// The embeddable snippet; any site may load it.
#[handler]
pub fn get_embed_script(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=300")
        .header("Access-Control-Allow-Origin", "*")
        .header("Cross-Origin-Resource-Policy", "cross-origin")
        .body(embed_script(&state.public_url, state.settings.storefront.embed_target.as_str()))
}

/// The error pages' "Go back" link (history when there is one, else the home page).
#[handler]
pub fn get_back_script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=300")
        .body(include_str!("../../assets/back.js"))
}

#[cfg(test)]
mod tests {
    use super::embed_script;

    #[test]
    fn the_snippet_carries_this_instance() {
        let js = embed_script("https://shop.example", "same_window");
        assert!(js.contains("var BASE = \"https://shop.example\";"));
        assert!(js.contains("var TARGET = \"same_window\";"));
        let odd = embed_script("https://x.example/</script>", "new_tab");
        assert!(!odd.contains("</script>\""), "no way out of a script element");
    }
}
