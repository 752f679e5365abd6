//! The digest of an app's content: entity counts and one SHA-256 over the content in a canonical
//! order that does not depend on internal ids or insertion order, so that a full restore gives the
//! destination the source's digest. The canonical form is specified in `docs/digest.md`.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use super::platform::{begin, org_app};
use super::ServiceError;
use crate::model::{Digest, Product};
use crate::store::digest::{stream_records, Field};
use crate::store::platform::count_kinds;
use crate::store::Db;

/// Version of the canonical form; part of the hashed bytes, bumped on any change to `docs/digest.md`.
pub const DIGEST_FORMAT: &str = "1";

/// `GET /orgs/{orgId}/cloud/{cloudId}/apps/{product}/digest` (admin of the app).
pub async fn digest(
    db: &Db,
    admin_id: &str,
    org_id: &str,
    cloud_id: &str,
    product: Product,
) -> Result<Digest, ServiceError> {
    org_app(db, admin_id, org_id, cloud_id, product).await?;
    compute_digest(db, cloud_id, product).await
}

/// The digest without rights checks (restore verification, `lifeboat seed`, tests). Rows stream
/// through the hasher; one read transaction gives every query the same snapshot.
pub async fn compute_digest(db: &Db, cloud_id: &str, product: Product) -> Result<Digest, ServiceError> {
    let mut hasher = Sha256::new();
    let mut counts: BTreeMap<String, u64> = count_kinds(product).iter().map(|k| ((*k).to_owned(), 0)).collect();
    let mut scratch = String::with_capacity(24);
    write_record(
        &mut hasher,
        &mut scratch,
        "lifeboat-digest",
        &[Field::Text(DIGEST_FORMAT), Field::Text(product.as_str())],
    );
    let mut tx = begin(db).await?;
    stream_records(&mut tx, cloud_id, product, |tag, count, fields| {
        write_record(&mut hasher, &mut scratch, tag, fields);
        *counts.entry(count.to_owned()).or_default() += 1;
    })
    .await?;
    drop(tx); // read-only: rolling back is the same as committing
    Ok(Digest { product, counts, sha256: hex::encode(hasher.finalize()) })
}

/// One record: its tag and fields, each as `<byte length>:<bytes>,` (a null as `~`), then `\n`.
fn write_record(h: &mut Sha256, scratch: &mut String, tag: &str, fields: &[Field<'_>]) {
    write_text(h, scratch, tag);
    for f in fields {
        match f {
            Field::Text(s) => write_text(h, scratch, s),
            Field::Int(n) => {
                let n = n.to_string();
                write_text(h, scratch, &n);
            }
            Field::Null => h.update(b"~"),
        }
    }
    h.update(b"\n");
}

fn write_text(h: &mut Sha256, scratch: &mut String, s: &str) {
    use std::fmt::Write;
    scratch.clear();
    let _ = write!(scratch, "{}:", s.len());
    h.update(scratch.as_bytes());
    h.update(s.as_bytes());
    h.update(b",");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::BlobStore;
    use crate::model::{NewComment, NewIssue, NewPage, NewProject, NewSpace, PageRequest, SpaceType};
    use crate::service::content::{self as c, UploadMeta};
    use crate::service::platform::create_site;
    use crate::service::platform::tests::{new_site, setup};
    use bytes::Bytes;

    #[test]
    fn records_are_length_prefixed() {
        let mut a = Sha256::new();
        let mut s = String::new();
        write_record(&mut a, &mut s, "t", &[Field::Text("ab"), Field::Null, Field::Int(12)]);
        let mut b = Sha256::new();
        b.update(b"1:t,2:ab,~2:12,\n");
        assert_eq!(a.finalize(), b.finalize());
    }

    fn body(bytes: &'static [u8]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(vec![Ok(Bytes::from_static(bytes))])
    }

    fn meta(name: &str) -> UploadMeta {
        UploadMeta { filename: name.into(), content_type: Some("text/plain".into()), max_size: 1 << 20 }
    }

    fn issue(summary: &str, comments: &[&str]) -> NewIssue {
        NewIssue {
            summary: summary.into(),
            description: format!("about {summary}"),
            status: None,
            comments: comments.iter().map(|b| NewComment { body: (*b).into() }).collect(),
        }
    }

    fn page(title: &str, parent: Option<&str>, position: u32) -> NewPage {
        NewPage {
            title: title.into(),
            body: format!("<p>{title}</p>"),
            parent_id: parent.map(Into::into),
            position: Some(position),
            comments: vec![NewComment { body: format!("on {title}") }],
        }
    }

    #[tokio::test]
    async fn same_content_in_another_order_gives_the_same_digest() {
        let (dir, db, a) = setup().await;
        let (me, org) = (a.admin_id.as_str(), a.org.org_id.as_str());
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let one = create_site(&db, me, org, new_site("one", &Product::ALL)).await.unwrap().cloud_id;
        let two = create_site(&db, me, org, new_site("two", &Product::ALL)).await.unwrap().cloud_id;
        let np = |k: &str| NewProject { key: k.into(), name: format!("Project {k}"), description: String::new() };
        let ns = |k: &str| NewSpace { key: Some(k.into()), name: k.into(), space_type: SpaceType::Global, owner: None };

        // Site one: A then B; site two: B then A, attachments in the other order.
        for (cloud, keys) in [(&one, ["AAA", "BBB"]), (&two, ["BBB", "AAA"])] {
            for k in keys {
                c::create_project(&db, me, org, cloud, np(k)).await.unwrap();
                c::create_issue(&db, me, org, cloud, k, issue("first", &["x", "y"])).await.unwrap();
                c::create_issue(&db, me, org, cloud, k, issue("second", &[])).await.unwrap();
            }
            let files: [(&str, &'static [u8]); 2] = [("a.txt", b"alpha"), ("b.txt", b"beta")];
            let order: Vec<_> = if *cloud == one { files.to_vec() } else { files.iter().rev().copied().collect() };
            for (name, bytes) in order {
                c::upload_issue_attachment(&db, &blobs, me, org, cloud, "AAA-1", meta(name), body(bytes))
                    .await
                    .unwrap();
            }
            for k in if *cloud == one { ["DOCS", "ENG"] } else { ["ENG", "DOCS"] } {
                c::create_space(&db, me, org, cloud, ns(k)).await.unwrap();
            }
            let root = c::create_page(&db, me, org, cloud, "DOCS", page("Root", None, 0)).await.unwrap().page_id;
            let titles: Vec<(&str, u32)> =
                if *cloud == one { vec![("Intro", 0), ("Guide", 1)] } else { vec![("Guide", 1), ("Intro", 0)] };
            for (title, pos) in titles {
                let p = c::create_page(&db, me, org, cloud, "DOCS", page(title, Some(&root), pos)).await.unwrap();
                if title == "Guide" {
                    c::create_page(&db, me, org, cloud, "DOCS", page("Deep", Some(&p.page_id), 0)).await.unwrap();
                    c::upload_page_attachment(&db, &blobs, me, org, cloud, &p.page_id, meta("g.txt"), body(b"g"))
                        .await
                        .unwrap();
                }
            }
        }

        for product in Product::ALL {
            let d1 = compute_digest(&db, &one, product).await.unwrap();
            let d2 = compute_digest(&db, &two, product).await.unwrap();
            assert_eq!(d1, d2, "{product}");
        }
        let jira = compute_digest(&db, &one, Product::Jira).await.unwrap();
        assert_eq!(
            jira.counts,
            [("attachments", 2), ("comments", 4), ("issues", 4), ("projects", 2)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
        );
        let conf = compute_digest(&db, &one, Product::Confluence).await.unwrap();
        assert_eq!((conf.counts["spaces"], conf.counts["pages"], conf.counts["attachments"]), (3, 4, 1));

        // One changed byte anywhere changes the digest.
        sqlx::query(
            "UPDATE jira_comments SET body = 'z' WHERE body = 'y' AND issue_id IN
                     (SELECT issue_id FROM jira_issues i JOIN jira_projects p USING (project_id) WHERE p.cloud_id = ?)",
        )
        .bind(&two)
        .execute(&db)
        .await
        .unwrap();
        assert_ne!(compute_digest(&db, &two, Product::Jira).await.unwrap().sha256, jira.sha256);
        sqlx::query(
            "UPDATE confluence_pages SET position = 2 WHERE title = 'Intro' AND space_id IN
                     (SELECT space_id FROM confluence_spaces WHERE cloud_id = ?)",
        )
        .bind(&two)
        .execute(&db)
        .await
        .unwrap();
        assert_ne!(compute_digest(&db, &two, Product::Confluence).await.unwrap().sha256, conf.sha256);

        // The digest ignores the directory, the plan and the shard.
        crate::store::platform::set_app_shard(&db, &one, Product::Jira, "elsewhere").await.unwrap();
        c::list_projects(&db, me, org, &one, PageRequest::default()).await.unwrap();
        assert_eq!(digest(&db, me, org, &one, Product::Jira).await.unwrap(), jira);
    }
}
