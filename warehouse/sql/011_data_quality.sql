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
