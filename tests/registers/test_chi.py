import datetime as dt

import pytest

from registers.validation import (
    chi_check_digit,
    chi_errors,
    chi_mismatches,
    chi_mod10_check_digit,
    is_valid_chi,
    make_chi,
)


@pytest.mark.parametrize("chi", ["0101011237", "1708901248", "3112991230", "2505750424"])
def test_valid_chi_numbers_are_accepted(chi):
    # Check digits worked by hand: weights 10..2, check = 11 - (sum mod 11).
    assert is_valid_chi(chi)


@pytest.mark.parametrize(
    ("chi", "reason"),
    [
        ("010101123", "10 digits"),
        ("01010112377", "10 digits"),
        ("01010112a7", "10 digits"),
        ("0101011236", "check digit"),
        ("3202011234", "date of birth"),
        ("0113011234", "date of birth"),
    ],
)
def test_invalid_chi_numbers_are_refused_with_a_reason(chi, reason):
    errors = chi_errors(chi)
    assert errors
    assert reason in errors[0]


def test_a_remainder_of_ten_has_no_valid_check_digit():
    # 1*10+7*9+0*8+8*7+9*6+0*5+1*4+2*3+3*2 = 199; 199 mod 11 = 1; 11 - 1 = 10: invalid.
    assert chi_check_digit("170890123") is None
    assert "check digit" in chi_errors("1708901230")[0]


def test_a_remainder_of_eleven_gives_check_digit_zero():
    assert chi_check_digit("311299123") == 0


def test_a_chi_that_disagrees_with_the_date_of_birth_or_sex_is_a_mismatch_not_an_error():
    chi = make_chi(dt.date(1990, 8, 17), "male", 3)
    assert chi and is_valid_chi(chi)
    assert chi_mismatches(chi, date_of_birth=dt.date(1990, 8, 17), sex="male") == []
    assert "date of birth" in chi_mismatches(chi, date_of_birth=dt.date(1991, 8, 17), sex="male")[0]
    assert "sex" in chi_mismatches(chi, date_of_birth=dt.date(1990, 8, 17), sex="female")[0]
    # Sex not known, or no CHI number, cannot disagree.
    assert chi_mismatches(chi, date_of_birth=dt.date(1990, 8, 17), sex="not_known") == []
    assert chi_mismatches(None, date_of_birth=dt.date(1991, 8, 17), sex="female") == []


# The test vectors of domain.md, "CHI numbers": (CHI, modulus 11 digit, modulus 10 digit, valid).
DOMAIN_VECTORS = [
    ("0101011237", 7, 7, True),
    ("0101201234", 0, 4, True),
    ("0101201230", 0, 4, True),
    ("0101201235", 0, 4, False),
]


@pytest.mark.parametrize(("chi", "mod11", "mod10", "valid"), DOMAIN_VECTORS)
def test_domain_vectors_check_digits_and_validity(chi, mod11, mod10, valid):
    assert chi_check_digit(chi[:9]) == mod11
    assert chi_mod10_check_digit(chi[:9]) == mod10
    assert is_valid_chi(chi) is valid


def test_a_chi_is_valid_when_only_the_modulus_10_check_passes():
    assert chi_check_digit("010120123") != 4
    assert chi_errors("0101201234") == []


def test_a_chi_is_valid_when_only_the_modulus_11_check_passes():
    assert chi_mod10_check_digit("010120123") != 0
    assert chi_errors("0101201230") == []


def test_a_chi_failing_both_checks_is_refused_for_its_check_digit():
    assert "check digit" in chi_errors("0101201235")[0]


def test_a_chi_with_no_32nd_day_is_refused_for_its_date():
    assert "date of birth" in chi_errors("3201201234")[0]
