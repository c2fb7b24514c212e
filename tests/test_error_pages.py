from django.template.loader import render_to_string


def test_the_server_error_page_renders_in_the_layout_without_a_request():
    # Django renders 500.html with no context at all: the layout must not depend on one.
    html = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in html
    assert "ds_site-header" in html
