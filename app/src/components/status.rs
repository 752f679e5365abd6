//! Status lozenges, the progress bar, the side panel and byte sizes: written once, used by every tab.

use leptos::prelude::*;

/// A status lozenge with the vendor's labels (*In progress*, *Complete*, *Incomplete*, *Failed*, *Expired*).
#[component]
pub fn StatusLozenge(#[prop(into)] status: String) -> impl IntoView {
    let (label, class) = match status.as_str() {
        "IN_PROGRESS" => ("In progress", "lozenge info"),
        "COMPLETE" => ("Complete", "lozenge success"),
        "INCOMPLETE" => ("Incomplete", "lozenge warning"),
        "FAILED" => ("Failed", "lozenge danger"),
        "EXPIRED" => ("Expired", "lozenge"),
        "VALIDATING" => ("Validating", "lozenge info"),
        "AWAITING_CONSENT" => ("Awaiting consent", "lozenge warning"),
        "ACTIVE" => ("Active", "lozenge success"),
        "INACTIVE" => ("Inactive", "lozenge"),
        _ => ("Unknown", "lozenge"),
    };
    view! { <span class=class>{label}</span> }
}

#[component]
pub fn ProgressBar(percent: u8, #[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="progress" role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
            <div class="progress-fill" style=format!("width: {percent}%")></div>
        </div>
    }
}

/// Bytes in the units an admin reads (1000-based, like the vendor's limits).
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `2026-11-22 06:31 UTC`
pub fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // By fields rather than `format`: chrono's strftime interpreter would be in the WASM.
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// `2026-11-22 06:31:07 UTC`
pub fn fmt_time_seconds(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

pub fn product_name(p: lifeboat_domain::model::Product) -> &'static str {
    match p {
        lifeboat_domain::model::Product::Jira => "Jira",
        lifeboat_domain::model::Product::Confluence => "Confluence",
    }
}

/// The apps of the sites as `(cloudId|PRODUCT, "Site · App")` choices for an app picker.
pub fn app_choices(sites: &[lifeboat_domain::model::Site]) -> Vec<(String, String)> {
    sites
        .iter()
        .flat_map(|s| {
            s.apps.iter().map(move |a| (format!("{}|{}", s.cloud_id, a.product.as_str()), format!("{} · {}", s.name, product_name(a.product))))
        })
        .collect()
}

/// A site's name by its cloudId (the id itself when the site is not in the list).
pub fn site_name(sites: &[lifeboat_domain::model::Site], cloud_id: &str) -> String {
    sites.iter().find(|s| s.cloud_id == cloud_id).map(|s| s.name.clone()).unwrap_or_else(|| cloud_id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_1000_based_units_with_one_decimal() {
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(1_000), "1.0 kB");
        assert_eq!(fmt_bytes(1_234_567), "1.2 MB");
        assert_eq!(fmt_bytes(546_000_000_000), "546.0 GB");
    }

    #[test]
    fn times_read_as_utc_to_the_minute_or_second() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(fmt_time(&t), "2026-01-02 03:04 UTC");
        assert_eq!(fmt_time_seconds(&t), "2026-01-02 03:04:05 UTC");
    }
}
