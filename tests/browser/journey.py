"""A claimant's journey in a real browser, one step a function, taken as a person takes
it: by headings, labels and button text. The same steps run with JavaScript on and
off and at 320 px wide; `Journey.each_page` is called on every page the claimant
lands on (an axe check, a reflow check), so no page of the journey goes unchecked.

Staff steps (triage, a request for information, an offer) are not the claimant's:
`staff_*` take them through the services, as the caseworker workspace would."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import FilePayload, Locator, Page, expect

from claims.actions import casework, offers
from claims.actions.access import access_link_issue
from claims.actions.demo import ClaimStaff, take_step
from claims.core import Actor
from claims.models import AccessLink, Claim, HeadOfLoss, RegisterEntry
from tests.browser.support import assert_no_axe_violations, focused_description
from tests.support.claimant import last_link_path
from tests.support.hostile import pdf, png

REFERENCE = re.compile(r"RDR-[0-9A-Z]{4}-[0-9A-Z]{4}")
EMAIL = "zoe@example.com"
ACCOUNT_NUMBER = "12345678"
PageCheck = Callable[[Page], None]


def statement_png() -> FilePayload:
    return {"name": "statement.png", "mimeType": "image/png", "buffer": png((40, 30))}


def statement_pdf() -> FilePayload:
    return {"name": "march-statement.pdf", "mimeType": "application/pdf", "buffer": pdf()}


def heading(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("heading", level=1, name=name)


def group(page: Page, legend: str) -> Locator:
    """A fieldset by its legend: radios, checkboxes and the parts of a date."""
    return page.get_by_role("group", name=legend)


@dataclass
class Journey:
    page: Page
    each_page: Sequence[PageCheck] = ()
    javascript: bool = True
    scheme_name: str = ""  # shown in the header of every page of the claim form

    def arrive(self, name: str | re.Pattern[str]) -> None:
        """The page with this h1 has loaded: check what every page owes its users."""
        expect(heading(self.page, name)).to_be_visible()
        if self.scheme_name:
            expect(self.page.get_by_role("banner")).to_contain_text(self.scheme_name)
        for check in self.each_page:
            check(self.page)

    def click(self, name: str, role: str = "button") -> None:
        self.page.get_by_role(role, name=name, exact=True).click()  # type: ignore[arg-type]

    # --- Making a claim ---------------------------------------------------------------

    def start(self, scheme_name: str) -> None:
        self.page.goto("/")
        self.arrive(f"Claim compensation: {scheme_name}")
        self.click("Start your claim", role="link")

    def identify(self, entry: RegisterEntry) -> None:
        self.arrive("Find your notice")
        self.page.get_by_label("Notice code").fill(entry.notice_code.lower())
        self.page.get_by_label("Postcode").fill(entry.postcode)
        self.click("Continue")

    def contact(self, full_name: str = "Zoë O'Brien") -> None:
        self.arrive("Your contact details")
        page = self.page
        page.get_by_label("Full name").fill(full_name)
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_label(re.compile(r"^Address")).fill("Flat 2\n14 St Mary's Road\nCardiff")
        expect(page.get_by_label("Postcode")).to_have_value("CF24 3AB")  # from the notice
        self.click("Save and continue")

    def not_for_someone_else(self) -> None:
        self.arrive("Claiming for someone else")
        group(self.page, "Are you making this claim for someone else?").get_by_label("No").check()
        self.click("Save and continue")

    def what_happened(self, text: str = "Two payments I did not make, then scam calls.") -> None:
        self.arrive("What happened to you")
        self.page.get_by_label("What happened to you after the breach?").fill(text)
        self.click("Save and continue")

    def add_unauthorised_payment(self, files: Sequence[FilePayload] = ()) -> None:
        self.arrive("What you are claiming for")
        self.page.get_by_role("link", name=re.compile(r"^Add (something|another)")).click()
        self.arrive("Add something you are claiming for")
        self.page.get_by_label("Unauthorised transactions").check()
        self.click("Continue")
        self.arrive("Unauthorised transactions")
        date = group(self.page, "When did this happen?")
        date.get_by_label("Day").fill("14")
        date.get_by_label("Month").fill("3")
        date.get_by_label("Year").fill("2017")
        self.page.get_by_label("How much did it cost you?").fill("120.50")
        self.page.get_by_label("Tell us about it (optional)").fill("Florist in Leeds")
        if files:
            self.page.get_by_label("Upload evidence (optional)").set_input_files(files)
        self.click("Save")

    def add_time_spent(self) -> None:
        self.arrive("What you are claiming for")
        self.page.get_by_role("link", name=re.compile(r"^Add (something|another)")).click()
        self.arrive("Add something you are claiming for")
        self.page.get_by_label("Time spent").check()
        self.click("Continue")
        self.arrive("Time spent")
        page = self.page
        if self.javascript:
            # The live region is in the page before there is anything to announce in it.
            expect(page.get_by_role("status")).to_have_text("")
        page.get_by_label("How many hours did you spend?").fill("3")
        estimate = "3 hours at £25.00 an hour: up to £75.00 without evidence, £75.00 with a log"
        if self.javascript:
            # Shown as the claimant types, in a live region a screen reader announces.
            expect(page.get_by_role("status")).to_contain_text(estimate)
        else:
            # Without JavaScript the sum comes back with the page, here from a first try
            # that left out the description.
            self.click("Save")
            self.arrive("Time spent")
            expect(page.get_by_role("status")).to_contain_text(estimate)
            assert_no_axe_violations(page)  # the one page only JavaScript-off shows
            expect(page.get_by_label("How many hours did you spend?")).to_have_value("3")
        page.get_by_label("What did you spend the time on?").fill("Calls to my bank")
        self.click("Save")

    def losses_done(self) -> None:
        self.arrive("What you are claiming for")
        table = self.page.get_by_role("table", name="Things you are claiming for")
        expect(table).to_contain_text("File: statement.png")
        expect(table.get_by_role("row")).to_have_count(3)  # a header and two things
        self.click("Continue")

    def distress(self) -> None:
        self.arrive("How the breach affected you")
        page = self.page
        group(page, "Did the breach cause you distress or worry?").get_by_label("Yes").check()
        group(page, "How did it affect you? Select all that apply.").get_by_label(
            "I lost sleep"
        ).check()
        page.get_by_label("In your own words, how did it affect you?").fill(
            "I checked my account every day for months."
        )
        self.click("Save and continue")

    def support(self) -> None:
        self.arrive("Support and how we write to you")
        formats = group(self.page, "How would you like us to write to you?")
        expect(formats.get_by_label("Large print")).not_to_be_checked()
        formats.get_by_label("Large print").check()
        self.click("Save and continue")

    def check_change_and_send(self) -> str:
        """Check the answers, change one through its change link, send; the reference."""
        page = self.page
        self.arrive("Check your answers before sending your claim")
        expect(page.get_by_text("£120.50")).to_be_visible()
        self.click("Change what happened", role="link")
        self.arrive("What happened to you")
        answer = page.get_by_label("What happened to you after the breach?")
        expect(answer).to_have_value(re.compile("^Two payments"))
        answer.fill("Two payments I did not make, then scam calls and a new card.")
        self.click("Save and continue")

        self.arrive("Check your answers before sending your claim")  # straight back here
        expect(page.get_by_text("then scam calls and a new card.")).to_be_visible()
        page.get_by_label("I confirm that the information I have given is true").check()
        self.click("Send claim")

        self.arrive("Claim sent")
        match = REFERENCE.search(page.get_by_role("main").inner_text())
        assert match, "the confirmation page shows no reference"
        expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
        return match.group()

    def make_claim(self, scheme_name: str, entry: RegisterEntry) -> str:
        """Start page to confirmation; the claim's reference."""
        self.scheme_name = scheme_name
        self.start(scheme_name)
        self.identify(entry)
        self.contact()
        self.not_for_someone_else()
        self.what_happened()
        self.add_unauthorised_payment(files=[statement_png()])
        self.add_time_spent()
        self.losses_done()
        self.distress()
        self.support()
        reference = self.check_change_and_send()
        self.scheme_name = ""
        return reference

    # --- Following the claim ----------------------------------------------------------

    def follow(self, reference: str) -> None:
        """Ask for a link with the reference and email, and open it from the email."""
        page = self.page
        page.goto("/")
        page.get_by_role("contentinfo").get_by_role("link", name="Follow a claim").click()
        self.arrive("Follow your claim")
        page.get_by_label("Claim reference").fill(reference.lower().replace("-", " "))
        page.get_by_label("Email address").fill(EMAIL.upper())
        self.click("Email me a link")
        self.arrive("Check your email")
        page.goto(last_link_path(to=EMAIL))
        self.arrive("Open your claim")
        self.click("Open my claim")

    def see_claim(self, stage: str) -> None:
        self.arrive(f"Your claim: {stage}")
        # The timeline: each stage the claim has been through, with the day it got there.
        today = timezone.localdate().strftime("%-d %B %Y")
        steps = self.page.get_by_role("listitem")
        for reached in ("submitted", stage):
            step = steps.filter(has_text=re.compile(f"^{reached}", re.IGNORECASE)).last
            expect(step).to_contain_text(today)

    def answer_information_request(self) -> None:
        page = self.page
        self.see_claim("information requested")
        self.click("Answer our question", role="link")
        self.arrive("Answer our question")
        expect(page.get_by_text("bank statement for March 2017")).to_be_visible()
        page.get_by_label("Your answer").fill("Here is my statement: the payments are marked.")
        page.get_by_label("Upload files (optional)").set_input_files([statement_pdf()])
        self.click("Send answer")
        self.see_claim("assessment")
        expect(page.get_by_role("status")).to_contain_text("We have your answer")
        expect(page.get_by_text("Here is my statement: the payments are marked.")).to_be_visible()
        expect(page.get_by_role("link", name="Download march-statement.pdf")).to_be_visible()

    def accept_offer_and_give_bank_details(self) -> None:
        page = self.page
        self.see_claim("offer made")
        self.click("See your offer", role="link")
        self.arrive("Our offer: £395.50")
        page.get_by_label("I accept this offer in full and final settlement").check()
        self.click("Accept the offer")
        self.arrive("Where should we pay you?")
        page.get_by_label("Name on the account").fill("Zoë O'Brien")
        page.get_by_label("Sort code").fill("30-94-57")
        page.get_by_label("Account number").fill(ACCOUNT_NUMBER)
        self.click("Save bank details")
        self.see_claim("accepted")
        expect(page.get_by_role("main")).to_contain_text("the account ending 5678")
        assert ACCOUNT_NUMBER not in page.content()
        # Changing them shows the last four digits only, and an empty field.
        self.click("Change your bank details", role="link")
        self.arrive("Where should we pay you?")
        expect(page.get_by_role("main")).to_contain_text("the account ending 5678")
        expect(page.get_by_label("Account number")).to_have_value("")
        assert ACCOUNT_NUMBER not in page.content()


# --- What staff do meanwhile, through the services --------------------------------------


def staff_request_information(reference: str, staff: ClaimStaff) -> None:
    claim = Claim.objects.get(reference=reference)
    for step in ("triage_start", "triage_accept", "information_request"):
        take_step(claim, step, staff)


def staff_make_offer(reference: str, staff: ClaimStaff) -> None:
    """Allow everything claimed, distress in the scheme's lowest band, and make the offer
    (under the four-eyes threshold, so it goes out at once)."""
    claim = Claim.objects.get(reference=reference)
    caseworker = Actor.staff(staff.caseworker)
    lowest_band = claim.scheme.distress_bands.order_by("position").first()
    assert lowest_band is not None
    for head in claim.heads_of_loss.all():
        if head.category == HeadOfLoss.Category.DISTRESS:
            casework.head_of_loss_assess(
                head_id=head.pk,
                actor=caseworker,
                amount_allowed=Decimal("200.00"),
                distress_band_id=lowest_band.pk,
                reason="Worry over weeks, in the scheme's lowest band.",
            )
        else:
            casework.head_of_loss_assess(
                head_id=head.pk, actor=caseworker, amount_allowed=head.amount_claimed
            )
    offers.offer_propose(claim_id=claim.pk, actor=caseworker)


# --- Error states -------------------------------------------------------------------------


def open_claim(page: Page, claim: Claim) -> None:
    """Open `claim` through a fresh single-use link, as from the email it was sent in."""
    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    page.goto(f"/link/{token}/")
    page.get_by_role("button", name="Open my claim").click()
    expect(heading(page, re.compile(r"^Your claim: "))).to_be_visible()


def assert_error_state(page: Page, *messages: str, checks: Sequence[PageCheck]) -> None:
    """The page shows what went wrong, the GOV.UK way: "Error:" first in the title, a
    summary announced as an alert with each message, focused so the next Tab reaches its
    first link; each link moves focus to its field, and a screen reader on that field
    hears the message (in the field's name or description, or its fieldset's)."""
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(len(messages))
    for number, message in enumerate(messages):
        expect(links.nth(number)).to_contain_text(message)
    for check in checks:
        check(page)
    for number in range(len(messages)):
        link = links.nth(number)
        text = link.inner_text()
        target = (link.get_attribute("href") or "").removeprefix("#")
        link.click()
        focused = page.evaluate(
            "[document.activeElement.id, document.activeElement.tagName.toLowerCase()]"
        )
        assert focused[0] == target and focused[1] in {"input", "textarea"}, (
            f"the error link {text!r} left focus on {focused}, not on #{target}"
        )
        if page.get_by_role("main").get_by_text(text).count() > 1:  # shown by its field too
            _assert_announced_with_field(page, text)


def _assert_announced_with_field(page: Page, message: str) -> None:
    """A message shown beside a field is read out with it, not only seen."""
    field = page.locator(":focus")
    spoken = re.compile(re.escape(message))
    if message in focused_description(page):  # in its name: the message is inside the label
        return
    grouped = field.locator("xpath=ancestor::fieldset[1]")
    if grouped.count():
        expect(grouped).to_have_accessible_description(spoken)
    else:
        expect(field).to_have_accessible_description(spoken)
