import datetime as dt

import pytest

from registers.validation import chi_check_digit, chi_errors, is_valid_chi, make_chi


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


def test_chi_must_match_the_date_of_birth_and_sex():
    chi = make_chi(dt.date(1990, 8, 17), "male", 3)
    assert chi and is_valid_chi(chi)
    assert chi_errors(chi, date_of_birth=dt.date(1990, 8, 17), sex="male") == []
    assert "date of birth" in chi_errors(chi, date_of_birth=dt.date(1991, 8, 17))[0]
    assert "sex" in chi_errors(chi, sex="female")[0]
