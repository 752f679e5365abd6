//! Policy schedules: parsing `timeOfDay` and finding the next run (UTC).

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};

use crate::model::{DayOfWeek, Interval, Schedule};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("timeOfDay must be HH:MM (00:00 to 23:59), not {0:?}")]
    BadTime(String),
    #[error("a WEEKLY schedule needs dayOfWeek (MON..SUN)")]
    MissingDay,
    #[error("dayOfWeek applies to WEEKLY schedules only")]
    UnexpectedDay,
}

/// Checks a schedule and returns its time of day.
pub fn validate(schedule: &Schedule) -> Result<NaiveTime, ScheduleError> {
    let t = schedule.time_of_day.trim();
    let time = (t.len() == 5 && t.as_bytes()[2] == b':')
        .then(|| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| ScheduleError::BadTime(schedule.time_of_day.clone()))?;
    match (schedule.interval, schedule.day_of_week) {
        (Interval::Weekly, None) => Err(ScheduleError::MissingDay),
        (Interval::Once | Interval::Daily, Some(_)) => Err(ScheduleError::UnexpectedDay),
        _ => Ok(time),
    }
}

fn weekday(d: DayOfWeek) -> Weekday {
    match d {
        DayOfWeek::Mon => Weekday::Mon,
        DayOfWeek::Tue => Weekday::Tue,
        DayOfWeek::Wed => Weekday::Wed,
        DayOfWeek::Thu => Weekday::Thu,
        DayOfWeek::Fri => Weekday::Fri,
        DayOfWeek::Sat => Weekday::Sat,
        DayOfWeek::Sun => Weekday::Sun,
    }
}

/// The first run strictly after `after`: the next `timeOfDay` (ONCE, DAILY), on `dayOfWeek` for
/// WEEKLY. An invalid schedule has no next run.
pub fn next_run(schedule: &Schedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let time = validate(schedule).ok()?;
    let mut day = after.date_naive();
    for _ in 0..8 {
        let candidate = Utc.from_utc_datetime(&day.and_time(time));
        let day_ok = match schedule.interval {
            Interval::Weekly => schedule.day_of_week.map(weekday) == Some(day.weekday()),
            Interval::Once | Interval::Daily => true,
        };
        if day_ok && candidate > after {
            return Some(candidate);
        }
        day += Duration::days(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(interval: Interval, time: &str, day: Option<DayOfWeek>) -> Schedule {
        Schedule { interval, time_of_day: time.to_owned(), day_of_week: day }
    }

    #[test]
    fn daily_runs_today_if_still_ahead_else_tomorrow() {
        let s = schedule(Interval::Daily, "02:30", None);
        assert_eq!(next_run(&s, at("2026-11-22T01:00:00Z")), Some(at("2026-11-22T02:30:00Z")));
        assert_eq!(next_run(&s, at("2026-11-22T02:30:00Z")), Some(at("2026-11-23T02:30:00Z")));
    }

    #[test]
    fn weekly_runs_on_its_day() {
        // 2026-11-22 is a Sunday.
        let s = schedule(Interval::Weekly, "23:00", Some(DayOfWeek::Wed));
        assert_eq!(next_run(&s, at("2026-11-22T12:00:00Z")), Some(at("2026-11-25T23:00:00Z")));
        let sunday = schedule(Interval::Weekly, "10:00", Some(DayOfWeek::Sun));
        assert_eq!(next_run(&sunday, at("2026-11-22T12:00:00Z")), Some(at("2026-11-29T10:00:00Z")));
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert_eq!(validate(&schedule(Interval::Daily, "24:00", None)), Err(ScheduleError::BadTime("24:00".into())));
        assert_eq!(validate(&schedule(Interval::Daily, "7:5", None)), Err(ScheduleError::BadTime("7:5".into())));
        assert_eq!(validate(&schedule(Interval::Weekly, "07:00", None)), Err(ScheduleError::MissingDay));
        assert_eq!(validate(&schedule(Interval::Once, "07:00", Some(DayOfWeek::Mon))), Err(ScheduleError::UnexpectedDay));
        assert!(next_run(&schedule(Interval::Weekly, "07:00", None), Utc::now()).is_none());
    }
}
