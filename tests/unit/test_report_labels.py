"""The form's wording of breakdown cells (report.labels.value_name)."""

from __future__ import annotations

from report.labels import value_name


def test_known_cells_use_the_form_s_wording():
    assert value_name("female") == "Nữ"
    assert value_name("hinh_thuc:bao_luc") == "Hình thức: bạo lực"
    assert value_name("tro_giup:cham_soc_thay_the") == "Hình thức trợ giúp: chăm sóc thay thế"


def test_a_form_of_assistance_the_list_does_not_know_is_named_by_its_family():
    # the register's forms of assistance are an open list: a new code is still labelled as a form of assistance
    assert value_name("tro_giup:ho_tro_nha_o") == "Hình thức trợ giúp: ho tro nha o"


def test_codes_without_wording_stay_as_they_are():
    assert value_name("5IN1_3") == "5IN1_3"
