from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class User(AbstractUser):
    """A person who signs in. Their roles come from memberships, never from this row alone."""

    email = models.EmailField("email address", unique=True)
    is_national_analyst = models.BooleanField(
        default=False,
        help_text="Sees the census status of every authority and national aggregate returns; "
        "never a person-level row.",
    )
    is_national_administrator = models.BooleanField(
        default=False,
        help_text="Of the national team: invites and manages the national analysts.",
    )
    invited_at = models.DateTimeField(
        null=True, blank=True, help_text="when the last invitation to set a password was sent"
    )
    email_digests = models.BooleanField(
        default=True, help_text="the weekly digest of reviews due (other notices always go)"
    )
    second_factor_reset_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="set when the second factor was reset: a new one must be set up at the next "
        "sign-in; cleared once it is",
    )

    class Meta:
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email or self.username


class Role(models.TextChoices):
    LEAD = "lead", "Authority lead"
    PRACTITIONER = "practitioner", "Practitioner"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one Integration Authority. A user may hold roles in several."""

    authority = models.ForeignKey(
        "registers.IntegrationAuthority", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A deactivated member keeps their row (the audit trail and history name them) and their
    # grants, but their role counts for nothing until they are reactivated.
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "user"], name="membership_once_per_authority"
            ),
            # One named lead per authority at a time (domain.md).
            models.UniqueConstraint(
                fields=["authority"], condition=Q(role="lead"), name="one_named_lead_per_authority"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_role_known"
            ),
        ]
        indexes = [models.Index(fields=["user", "authority"], name="membership_user_idx")]
        ordering = ["authority", "role", "user"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.authority})"


# Guardian's direct foreign-key permission models: real foreign keys, joinable and indexed,
# instead of the generic content-type table.
class AuthorityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("registers.IntegrationAuthority", on_delete=models.CASCADE)


class AuthorityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("registers.IntegrationAuthority", on_delete=models.CASCADE)


class LocalityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("registers.Locality", on_delete=models.CASCADE)


class LocalityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("registers.Locality", on_delete=models.CASCADE)


class ApiScope(models.TextChoices):
    READ = "read", "Read: people, history, reviews, localities, returns"
    WRITE = "write", "Write: add and change people, status changes, reviews"


class ApiClient(models.Model):
    """A local case-management system that reads and writes one authority's register.

    The token is shown once at creation (or rotation); only its SHA-256 hash is stored, with a
    short prefix so the lead can tell tokens apart. The client acts through its own service user,
    which has no password and no membership: its scope comes from `access.scope_for_api_client`.
    """

    authority = models.ForeignKey(
        "registers.IntegrationAuthority", on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=100)
    scopes = ArrayField(models.CharField(max_length=10, choices=ApiScope.choices), default=list)
    token_prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["authority", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "name"], name="api_client_name_unique_in_ia"
            ),
            models.CheckConstraint(
                condition=Q(scopes__contained_by=[s.value for s in ApiScope])
                & Q(scopes__len__gt=0),
                name="api_client_scopes_known",
            ),
        ]
        indexes = [models.Index(fields=["authority", "created_at"], name="api_client_authority")]

    def __str__(self) -> str:
        return f"API client {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_read(self) -> bool:
        return ApiScope.READ in self.scopes

    @property
    def can_write(self) -> bool:
        return ApiScope.WRITE in self.scopes


SECRET_ENV_PREFIX = "DSR_OIDC_SECRET_"  # noqa: S105  (a variable name, not a secret)
# Values of `amr` (RFC 8176) that say the person used more than a password.
MFA_AMR_VALUES = ("mfa", "otp", "hwk")


class IdentityProvider(models.Model):
    """An organisation's OpenID Connect provider (Microsoft Entra ID, say): its staff sign in with
    their organisation's account instead of a password (docs/sign-in.md).

    Service configuration, not a tenant's data: like `IntegrationAuthority` it is written only by
    the service's administrators (`manage.py identity_provider`, in the audited system scope) and is
    read before anyone is signed in, when the sign-in page matches an email's domain. It holds no
    personal data and no secret: the client secret stays in the environment, in the variable
    `client_secret_env` names. The authorities it serves only narrow who may sign in through it
    (their active staff, or the national analysts when `national_team` is set); they grant nothing.
    """

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(
        max_length=100, help_text='the organisation, as in "Sign in with NHS Dumfries and Galloway"'
    )
    issuer = models.URLField(
        help_text="the issuer; its /.well-known/openid-configuration is read (discovery)"
    )
    client_id = models.CharField(max_length=255)
    client_secret_env = models.CharField(
        max_length=100,
        validators=[
            RegexValidator(
                rf"^{SECRET_ENV_PREFIX}[A-Z0-9_]+$",
                f"Name a variable {SECRET_ENV_PREFIX}... (capitals, digits and _).",
            )
        ],
        help_text=f"name of the environment variable holding the client secret "
        f"({SECRET_ENV_PREFIX}...): the secret is never stored in the database",
    )
    email_domains = ArrayField(
        models.CharField(max_length=253),
        help_text="lower-case email domains whose staff sign in here (exact match)",
    )
    authorities = models.ManyToManyField(
        "registers.IntegrationAuthority", blank=True, related_name="identity_providers"
    )
    national_team = models.BooleanField(
        default=False, help_text="national analysts may sign in through it"
    )
    trusts_provider_mfa = models.BooleanField(
        default=False,
        help_text="the provider's second factor (amr mfa/otp/hwk, or an acr below) replaces ours",
    )
    mfa_acr_values = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="acr values that also mean a second factor was used",
    )
    email_verified_claim = models.CharField(
        max_length=50,
        default="email_verified",
        help_text="the boolean claim that says the email is the person's (Entra ID: xms_edov)",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(client_secret_env__startswith=SECRET_ENV_PREFIX),
                name="identity_provider_secret_env_prefixed",
            ),
            models.CheckConstraint(
                condition=Q(email_domains__len__gt=0), name="identity_provider_has_domains"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def serves_domain(self, domain: str) -> bool:
        return domain.lower() in self.email_domains
