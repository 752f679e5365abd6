//! The read-only content browser of one app: Jira projects → issues (with comments); Confluence
//! spaces → page tree. Selection and paging live in the query string, so every view is a link.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use lifeboat_domain::model::{Issue, Page};

use crate::components::error_panel::ErrorPanel;
use crate::components::layout::use_org_id;
use crate::components::pager::Pager;
use crate::components::status::fmt_time;
use crate::server_fns::content::{get_site, list_issues, list_pages, list_projects, list_spaces};

fn use_cloud_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("cloud_id").unwrap_or_default())
}

fn query_offset(name: &str) -> Memo<u64> {
    let query = use_query_map();
    let name = name.to_owned();
    Memo::new(move |_| query.read().get(&name).and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn query_value(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(name).filter(|v| !v.is_empty()))
}

#[component]
fn SiteHeading(product: &'static str) -> impl IntoView {
    let org_id = use_org_id();
    let cloud_id = use_cloud_id();
    let site = Resource::new(move || (org_id.get(), cloud_id.get()), |(o, c)| get_site(o, c));
    view! {
        <Title text=format!("{product} content")/>
        <p class="breadcrumbs"><a href=move || format!("/orgs/{}/sites", org_id.get())>"Sites"</a>" / "</p>
        <Suspense fallback=move || view! { <h1>{product}</h1> }>
            {move || Suspend::new(async move {
                match site.await {
                    Ok(site) => view! { <h1>{format!("{product} · {}", site.name)}</h1> }.into_any(),
                    Err(error) => view! { <h1>{product}</h1><ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn JiraBrowserPage() -> impl IntoView {
    let org_id = use_org_id();
    let cloud_id = use_cloud_id();
    let list_offset = query_offset("list_offset");
    let offset = query_offset("offset");
    let project = query_value("project");
    let projects = Resource::new(
        move || (org_id.get(), cloud_id.get(), list_offset.get()),
        |(o, c, off)| list_projects(o, c, off),
    );
    let issues = Resource::new(
        move || (org_id.get(), cloud_id.get(), project.get(), offset.get()),
        |(o, c, p, off)| async move {
            match p {
                Some(p) => list_issues(o, c, p, off).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let here = move || format!("/orgs/{}/sites/{}/jira", org_id.get(), cloud_id.get());
    view! {
        <SiteHeading product="Jira"/>
        <div class="browser">
            <section class="browser-list" aria-label="Projects">
                <h2>"Projects"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match projects.await {
                            Ok(page) if page.items.is_empty() => view! { <p class="muted">"No projects."</p> }.into_any(),
                            Ok(page) => {
                                let items = page.items.iter().map(|p| {
                                    let href = format!("{}?project={}", here(), p.key);
                                    let key = p.key.clone();
                                    let current = move || (project.get().as_deref() == Some(key.as_str())).then_some("true");
                                    view! {
                                        <li><a href=href aria-current=current>
                                            <strong>{p.key.clone()}</strong>" "{p.name.clone()}
                                        </a></li>
                                    }
                                }).collect_view();
                                view! {
                                    <ul class="plain-list">{items}</ul>
                                    <Pager base=format!("{}?", here()) offset=page.offset limit=page.limit total=page.total param="list_offset"/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <section class="browser-detail" aria-label="Issues">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match issues.await {
                            Ok(None) => view! { <p class="muted">"Select a project to see its issues."</p> }.into_any(),
                            Ok(Some(page)) => {
                                let key = project.get_untracked().unwrap_or_default();
                                view! {
                                    <h2>{format!("Issues of {key}")}</h2>
                                    {page.items.is_empty().then(|| view! { <p class="muted">"No issues."</p> })}
                                    {page.items.into_iter().map(|issue| view! { <IssueCard issue/> }).collect_view()}
                                    <Pager base=format!("{}?project={key}&", here()) offset=page.offset limit=page.limit total=page.total/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </div>
    }
}

#[component]
fn IssueCard(issue: Issue) -> impl IntoView {
    let comments = issue.comments.len();
    view! {
        <article class="card" aria-label=issue.issue_key.clone()>
            <header>
                <strong>{issue.issue_key.clone()}</strong>" "{issue.summary.clone()}
                <span class="lozenge">{issue.status.clone()}</span>
            </header>
            <p class="muted small">{format!("Reported by {} · {}", issue.reporter.clone().unwrap_or_else(|| "unknown".into()), fmt_time(&issue.created_at))}</p>
            {(!issue.description.is_empty()).then(|| view! { <p class="clip">{issue.description.clone()}</p> })}
            <details>
                <summary>{format!("{comments} comment(s)")}</summary>
                <ul class="comments">
                    {issue.comments.into_iter().map(|c| view! {
                        <li><span class="muted small">{c.author.unwrap_or_default()}</span><p class="clip">{c.body}</p></li>
                    }).collect_view()}
                </ul>
            </details>
        </article>
    }
}

#[component]
pub fn ConfluenceBrowserPage() -> impl IntoView {
    let org_id = use_org_id();
    let cloud_id = use_cloud_id();
    let list_offset = query_offset("list_offset");
    let offset = query_offset("offset");
    let space = query_value("space");
    let spaces = Resource::new(
        move || (org_id.get(), cloud_id.get(), list_offset.get()),
        |(o, c, off)| list_spaces(o, c, off),
    );
    let pages = Resource::new(
        move || (org_id.get(), cloud_id.get(), space.get(), offset.get()),
        |(o, c, s, off)| async move {
            match s {
                Some(s) => list_pages(o, c, s, off).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let here = move || format!("/orgs/{}/sites/{}/confluence", org_id.get(), cloud_id.get());
    view! {
        <SiteHeading product="Confluence"/>
        <div class="browser">
            <section class="browser-list" aria-label="Spaces">
                <h2>"Spaces"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match spaces.await {
                            Ok(page) if page.items.is_empty() => view! { <p class="muted">"No spaces."</p> }.into_any(),
                            Ok(page) => {
                                let items = page.items.iter().map(|s| {
                                    let href = format!("{}?space={}", here(), s.key);
                                    let key = s.key.clone();
                                    let current = move || (space.get().as_deref() == Some(key.as_str())).then_some("true");
                                    let kind = if s.owner.is_some() { "personal" } else { "global" };
                                    view! {
                                        <li><a href=href aria-current=current>
                                            <strong>{s.key.clone()}</strong>" "{s.name.clone()}
                                            " "<span class="lozenge">{kind}</span>
                                        </a></li>
                                    }
                                }).collect_view();
                                view! {
                                    <ul class="plain-list">{items}</ul>
                                    <Pager base=format!("{}?", here()) offset=page.offset limit=page.limit total=page.total param="list_offset"/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <section class="browser-detail" aria-label="Pages">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match pages.await {
                            Ok(None) => view! { <p class="muted">"Select a space to see its page tree."</p> }.into_any(),
                            Ok(Some(page)) => {
                                let key = space.get_untracked().unwrap_or_default();
                                let (offset, limit, total) = (page.offset, page.limit, page.total);
                                view! {
                                    <h2>{format!("Pages of {key}")}</h2>
                                    {page.items.is_empty().then(|| view! { <p class="muted">"No pages."</p> })}
                                    <PageTree pages=page.items/>
                                    <Pager base=format!("{}?space={key}&", here()) offset limit total/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </div>
    }
}

/// The pages of one screen as a tree; a page whose parent is on another screen starts a root.
#[component]
fn PageTree(pages: Vec<Page>) -> impl IntoView {
    let ids: std::collections::HashSet<String> = pages.iter().map(|p| p.page_id.clone()).collect();
    let mut children: HashMap<Option<String>, Vec<Page>> = HashMap::new();
    for p in pages {
        let parent = p.parent_id.clone().filter(|id| ids.contains(id));
        children.entry(parent).or_default().push(p);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.title.cmp(&b.title)));
    }
    view! { <ul class="tree" role="tree">{tree_level(&mut children, None, 0)}</ul> }
}

fn tree_level(children: &mut HashMap<Option<String>, Vec<Page>>, parent: Option<String>, depth: usize) -> AnyView {
    let Some(level) = children.remove(&parent) else { return ().into_any() };
    if depth > 64 {
        return ().into_any();
    }
    level
        .into_iter()
        .map(|p| {
            let sub = tree_level(children, Some(p.page_id.clone()), depth + 1);
            let comments = p.comments.len();
            view! {
                <li role="treeitem">
                    <span class="page-title">{p.title.clone()}</span>
                    <span class="muted small">{format!(" v{} · {comments} comment(s)", p.version)}</span>
                    <ul role="group">{sub}</ul>
                </li>
            }
        })
        .collect_view()
        .into_any()
}
