{#- Confidence intervals of indicator values, so that plausibility checks can tell a wrong number from
    sampling noise (a 126.7 sex ratio on 1,190 births is noise; 180 on 1,400 is not).

    The level is var('plausibility_confidence_level') (default 0.99). Methods, named in the catalogue's
    interval_method column:
      * wilson        a proportion numerator / denominator (numerator ≤ denominator): the Wilson score
                      interval with continuity correction, scaled by the multiplier;
      * wilson_ratio  a ratio of two counts that are the parts of one whole (boys per 100 girls): the Wilson
                      interval of the share numerator / (numerator + denominator), turned back into a ratio;
      * poisson       events over an exposure (deaths per 1,000 live births, per 100,000 children, and
                      coverages that may exceed 100 %): the exact Poisson interval of the event count, by
                      Byar's approximation (error well under 1 % of the bound even for small counts), over
                      the denominator taken as fixed.
-#}

{%- macro standard_normal_quantile(p) -%}
    {#- Φ⁻¹(p) as a SQL expression, for a p known when the model compiles (Acklam's rational
        approximation, relative error below 1.2e-9). Jinja picks the region; SQL does ln and sqrt. -#}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- if p <= 0 or p >= 1 -%}
        {{ exceptions.raise_compiler_error("standard_normal_quantile: p must lie strictly between 0 and 1, not " ~ p) }}
    {%- elif p < 0.02425 or p > 0.97575 -%}
        {%- set tail_p = p if p < 0.5 else 1 - p -%}
        {%- set sign = '' if p < 0.5 else '-' -%}
        (select {{ sign }}(((((({{ c[0] }} * q + {{ c[1] }}) * q + {{ c[2] }}) * q + {{ c[3] }}) * q + {{ c[4] }}) * q + {{ c[5] }})
                / (((({{ d[0] }} * q + {{ d[1] }}) * q + {{ d[2] }}) * q + {{ d[3] }}) * q + 1))
           from (select sqrt(-2 * ln({{ tail_p }}::double precision)) as q) as tail)
    {%- else -%}
        {%- set q = p - 0.5 -%}
        {%- set r = q * q -%}
        (((((({{ a[0] }} * {{ r }} + {{ a[1] }}) * {{ r }} + {{ a[2] }}) * {{ r }} + {{ a[3] }}) * {{ r }} + {{ a[4] }}) * {{ r }} + {{ a[5] }}) * {{ q }}
         / ((((({{ b[0] }} * {{ r }} + {{ b[1] }}) * {{ r }} + {{ b[2] }}) * {{ r }} + {{ b[3] }}) * {{ r }} + {{ b[4] }}) * {{ r }} + 1))
    {%- endif -%}
{%- endmacro %}

{%- macro plausibility_z() -%}
    {#- The two-sided critical value of var('plausibility_confidence_level'): 2.5758 for 0.99. -#}
    {%- set level = var('plausibility_confidence_level', 0.99) | float -%}
    {%- if level <= 0 or level >= 1 -%}
        {{ exceptions.raise_compiler_error("var plausibility_confidence_level must lie strictly between 0 and 1, not " ~ level) }}
    {%- endif -%}
    {{ standard_normal_quantile(1 - (1 - level) / 2) }}
{%- endmacro %}

{%- macro wilson_bound(sign, share, total, z) -%}
    {#- A bound of the Wilson score interval with continuity correction (Newcombe 1998, method 4) of a share
        (0..1) of `total` trials. Without the correction the interval covers badly near 0 and 1 on tiny
        counts: one pupil of one who dropped out would lie wholly above a 12 % bound. -#}
    {%- set p = '(' ~ share ~ ')' -%}
    {%- set n = '(' ~ total ~ ')' -%}
    {%- set zz = '(' ~ z ~ ')' -%}
    {%- if sign == '-' -%}
    case when {{ p }} <= 0 then 0::double precision else greatest(0::double precision,
        (2 * {{ n }} * {{ p }} + {{ zz }} ^ 2 - 1
         - {{ zz }} * sqrt({{ zz }} ^ 2 - 2 - 1 / {{ n }} + 4 * {{ p }} * ({{ n }} * (1 - {{ p }}) + 1)))
        / (2 * ({{ n }} + {{ zz }} ^ 2))) end
    {%- else -%}
    case when {{ p }} >= 1 then 1::double precision else least(1::double precision,
        (2 * {{ n }} * {{ p }} + {{ zz }} ^ 2 + 1
         + {{ zz }} * sqrt({{ zz }} ^ 2 + 2 - 1 / {{ n }} + 4 * {{ p }} * ({{ n }} * (1 - {{ p }}) - 1)))
        / (2 * ({{ n }} + {{ zz }} ^ 2))) end
    {%- endif -%}
{%- endmacro %}

{%- macro confidence_bound(side, method, numerator, denominator, multiplier, z) -%}
    {#- The lower or upper bound of a value, in the value's unit; null where the value has no
        denominator or the method is not given. Arguments are SQL expressions; side is 'lower' or 'upper'. -#}
    {%- set sign = '-' if side == 'lower' else '+' -%}
    {%- set x = '(' ~ numerator ~ ')::double precision' -%}
    {%- set n = '(' ~ denominator ~ ')::double precision' -%}
    case
        when ({{ denominator }}) is null or ({{ denominator }}) <= 0 or ({{ numerator }}) is null then null
        when {{ method }} = 'wilson' then
            ({{ multiplier }}) * {{ wilson_bound(sign, 'least(' ~ x ~ ' / ' ~ n ~ ', 1)', n, z) }}
        when {{ method }} = 'wilson_ratio' then
            ({{ multiplier }}) * {{ wilson_bound(sign, x ~ ' / (' ~ x ~ ' + ' ~ n ~ ')', x ~ ' + ' ~ n, z) }}
            / nullif(1 - {{ wilson_bound(sign, x ~ ' / (' ~ x ~ ' + ' ~ n ~ ')', x ~ ' + ' ~ n, z) }}, 0)
        when {{ method }} = 'poisson' then
            ({{ multiplier }}) *
            {%- if side == 'lower' %}
            case when {{ x }} <= 0 then 0
                 else {{ x }} * (1 - 1 / (9 * {{ x }}) - ({{ z }}) / (3 * sqrt({{ x }}))) ^ 3 end
            {%- else %}
            ({{ x }} + 1) * (1 - 1 / (9 * ({{ x }} + 1)) + ({{ z }}) / (3 * sqrt({{ x }} + 1))) ^ 3
            {%- endif %}
            / {{ n }}
    end
{%- endmacro %}
