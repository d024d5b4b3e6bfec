-- Completeness and timeliness of deliveries (DHIS2's reporting rates), as they stand: marts.fct_feed_completeness
-- copied at every publish (publish/completeness.py). Which deliveries are owed and when they are due is data:
-- dbt/seeds/catalogue/expected_deliveries.csv and the reporting calendar.
create table if not exists published.feed_completeness (
    feed                   text not null,
    period                 text not null,
    period_type            text not null,
    period_start           date not null,
    period_end             date not null,
    admin_vintage          text not null,
    province_code          text not null,
    province_name          text,
    current_province_code  text not null,
    current_province_name  text,
    expected               boolean not null,
    due_date               date,
    due_date_basis         text,
    received               boolean not null,
    first_received_at      timestamptz,
    last_received_at       timestamptz,
    rows                   bigint not null,
    current_batch_id       bigint,
    on_time                boolean not null,
    late                   boolean not null,
    missing                boolean not null,
    delivery_status        text not null,
    days_past_due          integer,
    no_province_delivered  boolean not null,
    refreshed_at           timestamptz not null default now(),
    primary key (feed, period, admin_vintage, province_code)
);
comment on table published.feed_completeness is 'Which province delivered which feed for which period, and whether on time: one row per feed, period that has ended and province of the period''s geography (63 provinces before 1 July 2025, 34 from then). Missing deliveries: select * from published.feed_completeness where missing. Replaced at every publish.';
comment on column published.feed_completeness.feed is 'Landing feed, e.g. y_te_sinh (births), y_te_tiem_chung (immunisation), dan_so (population estimates).';
comment on column published.feed_completeness.period is 'The feed''s period: a half-year (2025-H1) for event feeds and child register snapshots, a year (2025) for population estimates, a school year (2024-2025) for students.';
comment on column published.feed_completeness.period_type is 'half_year, snapshot_half_year (at least one child register snapshot dated within the half-year), year or school_year (1 September to 31 August).';
comment on column published.feed_completeness.period_start is 'First day of the period.';
comment on column published.feed_completeness.period_end is 'Last day of the period.';
comment on column published.feed_completeness.admin_vintage is 'Geography of the period: pre_2025_07 (63 provinces) or 2025_07 (34).';
comment on column published.feed_completeness.province_code is 'Province code on the period''s geography (codes are reused across the reform).';
comment on column published.feed_completeness.province_name is 'Province name on the period''s geography.';
comment on column published.feed_completeness.current_province_code is 'The post-2025 province it lies in.';
comment on column published.feed_completeness.current_province_name is 'Name of the post-2025 province.';
comment on column published.feed_completeness.expected is 'False where the delivery is marked as not owed (expected_deliveries seed).';
comment on column published.feed_completeness.due_date is 'Last day to deliver on time: the filing deadline of the first report round that needs the period''s data after it ends (reporting calendar, with a province''s own deadline), unless the expected_deliveries seed sets one; beyond the calendar, days after the period''s end.';
comment on column published.feed_completeness.due_date_basis is 'Where the due date comes from, e.g. ''reporting calendar: round 2025-RY''.';
comment on column published.feed_completeness.received is 'A loaded file holds rows of the feed for this province and period.';
comment on column published.feed_completeness.first_received_at is 'When the first such file finished loading (a later correction does not move it).';
comment on column published.feed_completeness.last_received_at is 'When the latest such file (the last correction) finished loading.';
comment on column published.feed_completeness.rows is 'Rows that stand (for the child register, its latest snapshot in the half-year); 0 when nothing arrived.';
comment on column published.feed_completeness.current_batch_id is 'Load batch (audit.load_batches) holding those rows.';
comment on column published.feed_completeness.on_time is 'Expected and first received on or before the due date (Vietnam time).';
comment on column published.feed_completeness.late is 'Expected and first received after the due date.';
comment on column published.feed_completeness.missing is 'Expected, not received, and past the due date. A file without rows (a province with no deaths or cases) cannot be placed on a province and period, so it reads as missing.';
comment on column published.feed_completeness.delivery_status is 'on_time, late, missing, awaited (not received, not yet due) or not_expected.';
comment on column published.feed_completeness.days_past_due is 'Days from the due date to the first delivery (late) or to today (missing); 0 otherwise; null when not expected.';
comment on column published.feed_completeness.no_province_delivered is 'No province delivered the feed for the period (a feed outage, or a period before the feed''s history).';
comment on column published.feed_completeness.refreshed_at is 'When the publish step copied the row (today is judged as of then).';

-- DHIS2's reporting rate (received / expected) and on-time rate (on time / expected) per feed and period.
create or replace view published.feed_reporting_rates as
select feed,
       period,
       period_type,
       admin_vintage,
       count(*) filter (where expected) as expected,
       count(*) filter (where expected and received) as received,
       count(*) filter (where on_time) as on_time,
       count(*) filter (where late) as late,
       count(*) filter (where missing) as missing,
       count(*) filter (where delivery_status = 'awaited') as awaited,
       round(100.0 * count(*) filter (where expected and received) / nullif(count(*) filter (where expected), 0), 1)
           as reporting_rate,
       round(100.0 * count(*) filter (where on_time) / nullif(count(*) filter (where expected), 0), 1) as on_time_rate,
       min(due_date) filter (where expected) as earliest_due_date,
       max(refreshed_at) as refreshed_at
  from published.feed_completeness
 group by feed, period, period_type, admin_vintage;
comment on view published.feed_reporting_rates is 'Reporting rates per feed and period (DHIS2): of the provinces expected to deliver, how many did (reporting_rate, %) and how many on time (on_time_rate, %). From published.feed_completeness.';
comment on column published.feed_reporting_rates.expected is 'Provinces expected to deliver.';
comment on column published.feed_reporting_rates.received is 'Expected provinces that delivered.';
comment on column published.feed_reporting_rates.on_time is 'Expected provinces that delivered on or before their due date.';
comment on column published.feed_reporting_rates.late is 'Expected provinces that delivered after their due date.';
comment on column published.feed_reporting_rates.missing is 'Expected provinces past their due date without a delivery.';
comment on column published.feed_reporting_rates.awaited is 'Expected provinces without a delivery that are not due yet.';
comment on column published.feed_reporting_rates.reporting_rate is 'received / expected × 100.';
comment on column published.feed_reporting_rates.on_time_rate is 'on_time / expected × 100.';
comment on column published.feed_reporting_rates.earliest_due_date is 'Earliest due date of the expected provinces (a province may have its own).';
