-- Names never leave raw: this model lists its columns and full_name is not one of them.
with source as (

    select * from {{ source('education', 'giao_duc_hoc_sinh') }}

),

current_deliveries as (

    select * from source
    where superseded_by_batch is null

),

final as (

    select
        batch_id,
        school_year_start,
        extract(year from school_year_start)::integer as start_year,
        period_key as school_year,
        school_code,
        school_level,
        grade,
        student_code,
        personal_id_pseudonym,
        birth_date,
        sex,
        ethnicity_code,
        province_code,
        commune_code,
        admin_vintage,
        status_code,
        status_date,
        dropout_reason_code,
        has_disability

    from current_deliveries

)

select * from final
