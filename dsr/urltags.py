"""`{% url %}` and `{% static %}` with each URL remembered (template builtins, so every template
uses them unless it loads Django's `static` library itself).

Django's tag reverses on every render: about 20 microseconds each, and a person page reversed 26
(the header and footer 13 of them on every page), about 0.5 ms of a request's CPU. A URL is a
function of the view's name, its arguments (with their types: `1` and `True` print apart), the
current application, the script prefix and the URL configuration, so those are the key; the
project has no `i18n_patterns` or translated routes, so the language is not. Only whole numbers
and strings are remembered (a model instance prints as it likes, and could print otherwise
later); other arguments, `as` variables and every failure to reverse go the tag's usual way.
A static file's URL (nine a page, about 10 microseconds each through the manifest) is remembered
by its path. Both are forgotten whenever a setting changes (tests).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaulttags import URLNode, url
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

register = template.Library()
PLAIN = (int, str, SafeString)  # exact types: a subclass could print otherwise


@lru_cache(maxsize=8192)
def _reversed(
    view_name: str,
    args: tuple[tuple[type, Any], ...],
    kwargs: tuple[tuple[str, type, Any], ...],
    current_app: str | None,
    prefix: str,
    urlconf: str,
) -> str:
    return reverse(
        view_name,
        args=[value for _, value in args],
        kwargs={name: value for name, _, value in kwargs},
        current_app=current_app,
    )


def reversed_url(view_name: str, current_app: str | None = None) -> str:
    """`reverse(view_name)` for a view without arguments, remembered as the tag remembers it."""
    return _reversed(
        view_name, (), (), current_app, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF
    )


class CachedURLNode(URLNode):
    def render(self, context: template.Context) -> str:
        if self.asvar:
            return super().render(context)
        args = tuple((type(arg), arg) for arg in (a.resolve(context) for a in self.args))
        kwargs = tuple(
            (name, type(value), value)
            for name, value in ((k, v.resolve(context)) for k, v in self.kwargs.items())
        )
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None and not hasattr(request, "current_app"):
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        if not all(kind in PLAIN for kind, _ in args) or not all(
            kind in PLAIN for _, kind, _ in kwargs
        ):
            return super().render(context)
        found = _reversed(
            view_name,
            args,
            kwargs,
            current_app,
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
        )
        return conditional_escape(found) if context.autoescape else found


@register.tag("url")
def cached_url(parser: template.base.Parser, token: template.base.Token) -> URLNode:
    node = url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@lru_cache(maxsize=1024)
def _static(path: str) -> str:
    return StaticNode.handle_simple(path)


class CachedStaticNode(StaticNode):
    def url(self, context: template.Context) -> str:
        path = self.path.resolve(context)
        # A literal path comes as a SafeString: any string is its text.
        return _static(str.__str__(path)) if isinstance(path, str) else self.handle_simple(path)


@register.tag("static")
def cached_static(parser: template.base.Parser, token: template.base.Token) -> StaticNode:
    return CachedStaticNode.handle_token(parser, token)


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    _reversed.cache_clear()
    _static.cache_clear()
