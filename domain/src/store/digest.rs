//! The queries behind an app's digest: one per record kind, each streaming its rows in the
//! canonical order of `docs/digest.md` (natural keys only, never internal ids).

use futures_util::TryStreamExt;
use sqlx::{Row, SqliteConnection};

use super::StoreError;
use crate::model::Product;

/// A value of a digest record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

#[derive(Clone, Copy)]
enum Col {
    Text,
    Int,
}

/// One record kind: its tag, the count it feeds, its query (bound to the cloud id as `?1`) and the
/// types of its columns.
struct Section {
    tag: &'static str,
    count: &'static str,
    sql: &'static str,
    cols: &'static [Col],
}

use Col::{Int, Text};

const JIRA: &[Section] = &[
    Section {
        tag: "project",
        count: "projects",
        sql: "SELECT project_key, name, description FROM jira_projects WHERE cloud_id = ?1 ORDER BY project_key",
        cols: &[Text, Text, Text],
    },
    Section {
        tag: "issue",
        count: "issues",
        sql: "SELECT p.project_key || '-' || i.number, i.summary, i.description, i.status, i.reporter_email
                FROM jira_projects p JOIN jira_issues i ON i.project_id = p.project_id
               WHERE p.cloud_id = ?1 ORDER BY p.project_key, i.number",
        cols: &[Text, Text, Text, Text, Text],
    },
    Section {
        tag: "comment",
        count: "comments",
        sql: "SELECT p.project_key || '-' || i.number, c.author_email, c.body
                FROM jira_projects p JOIN jira_issues i ON i.project_id = p.project_id
                JOIN jira_comments c ON c.issue_id = i.issue_id
               WHERE p.cloud_id = ?1 ORDER BY p.project_key, i.number, c.created_at, c.body, c.author_email",
        cols: &[Text, Text, Text],
    },
    Section {
        tag: "attachment",
        count: "attachments",
        sql: "SELECT p.project_key || '-' || i.number, a.filename, a.content_type, a.size, a.sha256
                FROM jira_projects p JOIN jira_issues i ON i.project_id = p.project_id
                JOIN attachments a ON a.issue_id = i.issue_id
               WHERE p.cloud_id = ?1
               ORDER BY p.project_key, i.number, a.filename, a.sha256, a.content_type",
        cols: &[Text, Text, Text, Int, Text],
    },
];

const CONFLUENCE: &[Section] = &[
    Section {
        tag: "space",
        count: "spaces",
        sql: "SELECT s.space_key, s.name, s.space_type, u.email
                FROM confluence_spaces s LEFT JOIN users u ON u.account_id = s.owner_account_id
               WHERE s.cloud_id = ?1 ORDER BY s.space_key",
        cols: &[Text, Text, Text, Text],
    },
    Section { tag: "page", count: "pages", sql: const_format_pages::PAGES, cols: &[Text, Text, Text, Int, Text] },
    Section { tag: "comment", count: "comments", sql: const_format_pages::COMMENTS, cols: &[Text, Text, Text, Text] },
    Section {
        tag: "attachment",
        count: "attachments",
        sql: const_format_pages::ATTACHMENTS,
        cols: &[Text, Text, Text, Text, Int, Text],
    },
];

/// The Confluence queries share the page-tree CTE (`concat!` needs literals, hence the macro).
mod const_format_pages {
    /// Each page with its space key and its path, the concatenation from the root of
    /// `printf('%010d', position) || x'1f' || title || x'1e'`. Sorting by path in binary order is a
    /// depth-first walk with siblings by (position, title), because titles hold no byte below 0x20.
    macro_rules! tree {
        ($rest:literal) => {
            concat!(
                "WITH RECURSIVE tree(page_id, space_key, path) AS (
    SELECT g.page_id, s.space_key, printf('%010d', g.position) || char(31) || g.title || char(30)
      FROM confluence_pages g JOIN confluence_spaces s ON s.space_id = g.space_id
     WHERE s.cloud_id = ?1 AND g.parent_id IS NULL
    UNION ALL
    SELECT c.page_id, t.space_key, t.path || printf('%010d', c.position) || char(31) || c.title || char(30)
      FROM confluence_pages c JOIN tree t ON c.parent_id = t.page_id
) ",
                $rest
            )
        };
    }
    pub const PAGES: &str = tree!(
        "SELECT t.space_key, t.path, g.body, g.version, g.author_email
           FROM tree t JOIN confluence_pages g ON g.page_id = t.page_id
          ORDER BY t.space_key, t.path, g.body"
    );
    pub const COMMENTS: &str = tree!(
        "SELECT t.space_key, t.path, c.author_email, c.body
           FROM tree t JOIN confluence_comments c ON c.page_id = t.page_id
          ORDER BY t.space_key, t.path, c.created_at, c.body, c.author_email"
    );
    pub const ATTACHMENTS: &str = tree!(
        "SELECT t.space_key, t.path, a.filename, a.content_type, a.size, a.sha256
           FROM tree t JOIN attachments a ON a.page_id = t.page_id
          ORDER BY t.space_key, t.path, a.filename, a.sha256, a.content_type"
    );
}

/// Streams every record of the app's content, in canonical order, to `sink(tag, count_kind, fields)`.
/// Run it inside a transaction so all the queries see one snapshot.
pub async fn stream_records(
    conn: &mut SqliteConnection,
    cloud_id: &str,
    product: Product,
    mut sink: impl FnMut(&'static str, &'static str, &[Field<'_>]),
) -> Result<(), StoreError> {
    let sections = match product {
        Product::Jira => JIRA,
        Product::Confluence => CONFLUENCE,
    };
    for section in sections {
        let mut rows = sqlx::query(section.sql).bind(cloud_id).fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let mut fields = [Field::Null; 8];
            for (i, col) in section.cols.iter().enumerate() {
                fields[i] = match col {
                    Col::Text => row.try_get::<Option<&str>, _>(i)?.map_or(Field::Null, Field::Text),
                    Col::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Field::Null, Field::Int),
                };
            }
            sink(section.tag, section.count, &fields[..section.cols.len()]);
        }
    }
    Ok(())
}
