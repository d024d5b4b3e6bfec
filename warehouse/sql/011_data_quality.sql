-- Data quality of the child register per commune and snapshot (issue 14), as it stands: marts.fct_register_data_quality
-- copied at every publish (publish/data_quality.py). Counts only; the records to fix are in
-- quarantine.register_cleanup_list (loader role and data engineers).
create table if not exists published.register_data_quality (
    snapshot_date                     date not null,
    admin_vintage                     text not null,
    province_code                     text not null,
    commune_code                      text not null,
    current_province_code             text,
    current_commune_code              text,
    records_delivered                 bigint not null,
    records_counted                   bigint not null,
    records_quarantined               bigint not null,
    records_without_valid_id          bigint not null,
    records_id_missing                bigint not null,
    records_id_malformed              bigint not null,
    records_id_inconsistent           bigint not null,
    records_id_unchecked              bigint not null default 0,
    records_without_valid_birth_date  bigint not null,
    records_other_defects             bigint not null,
    records_complete                  bigint not null,
    share_complete_pct                numeric(5, 2),
    refreshed_at                      timestamptz not null default now(),
    primary key (snapshot_date, province_code, commune_code)
);
comment on table published.register_data_quality is 'Data quality of the commune child register per commune and snapshot: records delivered, counted, quarantined, without a valid personal ID (missing or malformed: the child counts but cannot be linked across files), with an inconsistent ID, without a valid birth date, and the share complete. Current deliveries only; replaced at every publish. Communes to follow up: select * from published.register_data_quality where share_complete_pct < 95 order by share_complete_pct.';
comment on column published.register_data_quality.snapshot_date is 'The snapshot date (ngay_cap_nhat).';
comment on column published.register_data_quality.admin_vintage is 'Geography of the delivered codes, by the snapshot date: pre_2025_07 (63 provinces) or 2025_07 (34).';
comment on column published.register_data_quality.province_code is 'Province code as delivered (its vintage).';
comment on column published.register_data_quality.commune_code is 'Commune code as delivered; unknown for quarantined records whose commune, province or date cannot be read (placed on their file''s province and snapshot).';
comment on column published.register_data_quality.current_province_code is 'Province on the current geography; null when the commune code is unknown.';
comment on column published.register_data_quality.current_commune_code is 'Commune on the current geography (a split commune''s default successor); null when unknown.';
comment on column published.register_data_quality.records_delivered is 'Records of the commune in the snapshot''s current delivery (counted + quarantined).';
comment on column published.register_data_quality.records_counted is 'Records loaded and counted as children.';
comment on column published.register_data_quality.records_quarantined is 'Records refused at load (no birth date, a child 16 or older, a bad code, a duplicate).';
comment on column published.register_data_quality.records_without_valid_id is 'Counted records whose personal ID is missing or malformed.';
comment on column published.register_data_quality.records_id_missing is 'Counted records with a blank personal ID.';
comment on column published.register_data_quality.records_id_malformed is 'Counted records whose ID lacks the structure of Thông tư 07/2016/TT-BCA (placeholders such as 123, a lost digit, letters).';
comment on column published.register_data_quality.records_id_inconsistent is 'Counted records whose well-formed ID disagrees with the record''s year of birth or sex.';
comment on column published.register_data_quality.records_id_unchecked is 'Counted records loaded before the loader checked personal IDs (reload the file to check them).';
comment on column published.register_data_quality.records_without_valid_birth_date is 'Quarantined records refused for their birth date.';
comment on column published.register_data_quality.records_other_defects is 'Quarantined records refused for another reason.';
comment on column published.register_data_quality.records_complete is 'Counted records with a valid personal ID.';
comment on column published.register_data_quality.share_complete_pct is 'records_complete / records_delivered, in % (2 decimals).';
comment on column published.register_data_quality.refreshed_at is 'When the publish step copied the row.';

-- The quality scorecard per current province and period, as it stands: marts.fct_quality_scorecard copied at
-- every publish (publish/data_quality.py); the view adds the values the latest release withholds.
create table if not exists published.quality_scorecard_base (
    current_province_code          text not null,
    period                         text not null,
    period_type                    text not null,
    deliveries_expected            bigint not null,
    deliveries_received            bigint not null,
    deliveries_on_time             bigint not null,
    deliveries_late                bigint not null,
    deliveries_missing             bigint not null,
    reporting_rate_pct             numeric,
    on_time_rate_pct               numeric,
    rows_read                      bigint not null,
    rows_quarantined               bigint not null,
    quarantine_rate_pct            numeric,
    register_id_completeness_pct   numeric,
    outliers                       bigint not null,
    refreshed_at                   timestamptz not null default now(),
    primary key (current_province_code, period)
);
comment on table published.quality_scorecard_base is 'The scorecard''s figures as the last publish copied them from marts.fct_quality_scorecard; read published.quality_scorecard, which adds the withheld values.';

create or replace view published.quality_scorecard as
with withheld as (
    select province_code, period, count(*) as withheld_values
      from published.indicator_values
     where withheld is not null and admin_level in ('province', 'commune')
     group by 1, 2
)
select s.current_province_code, u.admin_name as current_province_name, s.period, s.period_type,
       s.deliveries_expected, s.deliveries_received, s.deliveries_on_time, s.deliveries_late, s.deliveries_missing,
       s.reporting_rate_pct, s.on_time_rate_pct, s.rows_read, s.rows_quarantined, s.quarantine_rate_pct,
       s.register_id_completeness_pct, s.outliers, coalesce(w.withheld_values, 0) as withheld_values, s.refreshed_at
  from published.quality_scorecard_base as s
  left join withheld as w on w.province_code = s.current_province_code and w.period = s.period
  left join published.admin_units as u
    on u.vintage = '2025_07' and u.admin_level = 'province' and u.admin_code = s.current_province_code;
comment on view published.quality_scorecard is 'Quality scorecard per current province and period (year or half-year): deliveries expected, received, on time, late and missing; the share of the current deliveries'' rows quarantined; the register''s personal-ID completeness; outliers (marts.fct_indicator_outliers) of the province and its communes; and the values of the province and its communes the latest release withholds. Provinces to follow up: select * from published.quality_scorecard where period = ''2025-H1'' order by reporting_rate_pct, withheld_values desc.';
comment on column published.quality_scorecard.current_province_code is 'Province on the current (2025) geography; earlier periods'' old provinces are summed into it.';
comment on column published.quality_scorecard.current_province_name is 'Its name.';
comment on column published.quality_scorecard.period is 'A year (2025) or a half-year (2025-H1).';
comment on column published.quality_scorecard.period_type is 'year or half_year.';
comment on column published.quality_scorecard.deliveries_expected is 'Deliveries (feed × old province of the period) owed for the period; a half-year counts the half-yearly feeds and the register''s snapshots, a year the yearly ones.';
comment on column published.quality_scorecard.deliveries_received is 'Of which received.';
comment on column published.quality_scorecard.deliveries_on_time is 'Of which first received by the due date.';
comment on column published.quality_scorecard.deliveries_late is 'Of which received after the due date.';
comment on column published.quality_scorecard.deliveries_missing is 'Owed, past the due date and not received.';
comment on column published.quality_scorecard.reporting_rate_pct is 'received / expected, in %.';
comment on column published.quality_scorecard.on_time_rate_pct is 'on time / expected, in %.';
comment on column published.quality_scorecard.rows_read is 'Rows read from the current deliveries of the period (each file once).';
comment on column published.quality_scorecard.rows_quarantined is 'Of which quarantined at load.';
comment on column published.quality_scorecard.quarantine_rate_pct is 'rows_quarantined / rows_read, in %.';
comment on column published.quality_scorecard.register_id_completeness_pct is 'Children in the register with a valid personal ID, % (register_id_completeness_rate).';
comment on column published.quality_scorecard.outliers is 'Rates of the province and its communes flagged as outliers (modified z-score beyond ±3.5).';
comment on column published.quality_scorecard.withheld_values is 'Values of the province and its communes for the period that the latest release withholds (a failed check).';
comment on column published.quality_scorecard.refreshed_at is 'When the publish step copied the figures.';
-- the base table's columns carry the view's comments
do $$
declare
    item record;
begin
    for item in
        select a.attname, col_description('published.quality_scorecard'::regclass, a.attnum) as note
          from pg_attribute as a
         where a.attrelid = 'published.quality_scorecard'::regclass and a.attnum > 0 and not a.attisdropped
           and exists (select 1 from pg_attribute as b
                        where b.attrelid = 'published.quality_scorecard_base'::regclass and b.attname = a.attname)
    loop
        execute format('comment on column published.quality_scorecard_base.%I is %L', item.attname, item.note);
    end loop;
end
$$;

-- Outliers among the rates (marts.fct_indicator_outliers) copied at every publish (publish/data_quality.py) into
-- audit, which report users cannot read: the copy holds commune values that disclosure control suppresses. The
-- published view shows those whose value the latest release publishes (a value suppressed for disclosure or
-- withheld by a quality check is not shown, so the view never gives back a value the release holds back),
-- furthest out first.
create table if not exists audit.indicator_outliers_base (
    indicator_id    text not null,
    period          text not null,
    period_type     text not null,
    admin_level     text not null,
    admin_code      text not null,
    admin_name      text,
    compared_with   text not null,
    value           numeric not null,
    numerator       numeric,
    denominator     numeric,
    others          bigint not null,
    median          numeric not null,
    mad             numeric not null,
    modified_z      numeric not null,
    direction       text not null,
    refreshed_at    timestamptz not null default now(),
    primary key (indicator_id, period, admin_level, admin_code, compared_with)
);
comment on table audit.indicator_outliers_base is 'The outliers as the last publish copied them from marts.fct_indicator_outliers, suppressed commune values included; report users read published.indicator_outliers, which keeps those the latest release publishes.';

create or replace view published.indicator_outliers as
select o.indicator_id, o.period, o.period_type, o.admin_level, o.admin_code, o.admin_name, v.province_code,
       o.compared_with, o.value, o.numerator, o.denominator, o.others, o.median, o.mad, o.modified_z, o.direction,
       o.refreshed_at
  from audit.indicator_outliers_base as o
  join published.value_versions as v
    on v.last_release_seq is null
   and v.indicator_id = o.indicator_id and v.period = o.period and v.admin_level = o.admin_level
   and v.admin_code = o.admin_code and v.sex = 'total' and v.age_group = 'total' and v.ethnicity = 'total'
   and v.category = 'total'
 where v.value = o.value and v.withheld is null
 order by abs(o.modified_z) desc, o.indicator_id, o.period, o.admin_code, o.compared_with;
comment on view published.indicator_outliers is 'Rates of a province or commune far from their peers (the other provinces, or the communes of the same province, in the same year or half-year) or from the unit''s own history (its other years or half-years): modified z-score 0.6745 × (value − median) / MAD beyond ±3.5 (Iglewicz and Hoaglin; DHIS2''s outlier detection). Warnings to look at, not errors: nothing is withheld for being unusual. Only values the latest release publishes; furthest out first. The night''s quality results carry them too, as warnings (suite marts_indicator_values). Example: select * from published.indicator_outliers where province_code = ''15'' limit 20.';
comment on column published.indicator_outliers.compared_with is 'peers (the other units of the level in the same period) or history (the unit''s other periods of the same type).';
comment on column published.indicator_outliers.others is 'How many other values the comparison set holds (at least 4).';
comment on column published.indicator_outliers.median is 'Median of the comparison set (the value included).';
comment on column published.indicator_outliers.mad is 'Median absolute deviation from that median.';
comment on column published.indicator_outliers.modified_z is '0.6745 × (value − median) / mad; beyond ±3.5 is an outlier.';
comment on column published.indicator_outliers.direction is 'high or low.';
comment on column published.indicator_outliers.province_code is 'The province of the unit (itself for a province) on the current geography.';

-- The scorecard per feed (marts.fct_quality_scorecard_feeds), copied at every publish (publish/data_quality.py):
-- which feed of a province was late, missing or quarantined most.
create table if not exists published.quality_scorecard_feeds (
    current_province_code   text not null,
    period                  text not null,
    period_type             text not null,
    feed                    text not null,
    deliveries_expected     bigint not null,
    deliveries_received     bigint not null,
    deliveries_on_time      bigint not null,
    deliveries_late         bigint not null,
    deliveries_missing      bigint not null,
    reporting_rate_pct      numeric,
    on_time_rate_pct        numeric,
    rows_read               bigint not null,
    rows_quarantined        bigint not null,
    quarantine_rate_pct     numeric,
    refreshed_at            timestamptz not null default now(),
    primary key (current_province_code, period, feed)
);
comment on table published.quality_scorecard_feeds is 'The quality scorecard per current province, period (year or half-year) and feed: deliveries expected, received, on time, late and missing, and the share of the feed''s current deliveries'' rows quarantined. published.quality_scorecard sums the feeds. Which feed held a province back: select * from published.quality_scorecard_feeds where period = ''2025-H1'' and current_province_code = ''15'' order by quarantine_rate_pct desc nulls last.';
comment on column published.quality_scorecard_feeds.current_province_code is 'Province on the current (2025) geography; earlier periods'' old provinces are summed into it.';
comment on column published.quality_scorecard_feeds.period is 'A year (2025) or a half-year (2025-H1).';
comment on column published.quality_scorecard_feeds.period_type is 'year or half_year.';
comment on column published.quality_scorecard_feeds.feed is 'The inbound feed (y_te_sinh, ldxh_tre_em, dan_so, ...).';
comment on column published.quality_scorecard_feeds.deliveries_expected is 'Deliveries of the feed (one per old province of the period) owed for the period.';
comment on column published.quality_scorecard_feeds.deliveries_received is 'Of which received.';
comment on column published.quality_scorecard_feeds.deliveries_on_time is 'Of which first received by the due date.';
comment on column published.quality_scorecard_feeds.deliveries_late is 'Of which received after the due date.';
comment on column published.quality_scorecard_feeds.deliveries_missing is 'Owed, past the due date and not received.';
comment on column published.quality_scorecard_feeds.reporting_rate_pct is 'received / expected, in %.';
comment on column published.quality_scorecard_feeds.on_time_rate_pct is 'on time / expected, in %.';
comment on column published.quality_scorecard_feeds.rows_read is 'Rows read from the feed''s current deliveries of the period (each file once).';
comment on column published.quality_scorecard_feeds.rows_quarantined is 'Of which quarantined (quarantine.rejected_rows, with file, line, column and reason).';
comment on column published.quality_scorecard_feeds.quarantine_rate_pct is 'rows_quarantined / rows_read, in % (3 decimals); null when nothing was read.';
comment on column published.quality_scorecard_feeds.refreshed_at is 'When the publish step copied the row.';
