from django.urls import path

from claims.claimant.views import account, journey, offer_parts, public

app_name = "claims"

urlpatterns = [
    path("", public.home, name="home"),
    path("s/<slug:slug>/", public.scheme_start, name="scheme"),
    path("s/<slug:slug>/start/", public.identify, name="identify"),
    path("s/<slug:slug>/no-notice/", public.no_notice, name="no_notice"),
    path("s/<slug:slug>/already-claimed/", public.already_claimed, name="already_claimed"),
    # Making a claim
    path("claim/contact/", journey.contact, name="contact"),
    path("claim/someone-else/", journey.representative, name="representative"),
    path("claim/what-happened/", journey.what_happened, name="what_happened"),
    path("claim/losses/", journey.losses, name="losses"),
    path("claim/losses/add/", journey.loss_choose, name="loss_choose"),
    path("claim/losses/add/<slug:category>/", journey.loss_add, name="loss_add"),
    path("claim/losses/<id:pk>/change/", journey.loss_change, name="loss_change"),
    path("claim/losses/<id:pk>/remove/", journey.loss_remove, name="loss_remove"),
    path("claim/files/<id:pk>/remove/", journey.evidence_remove, name="evidence_remove"),
    path("claim/distress/", journey.distress, name="distress"),
    path("claim/support/", journey.support, name="support"),
    path("claim/check/", journey.check, name="check"),
    path("claim/submitted/", journey.submitted, name="submitted"),
    path("claim/save/", journey.save_and_return, name="save"),
    path("claim/saved/", journey.saved, name="saved"),
    path("claim/resume/", journey.resume, name="resume"),
    # Links and following a claim
    path("follow/", public.follow, name="follow"),
    path("follow/sent/", public.follow_sent, name="follow_sent"),
    path("link/open/", public.link_confirm, name="link_confirm"),
    path("link/<str:token>/", public.link, name="link"),
    path("sign-out/", public.sign_out, name="sign_out"),
    path("my-claim/", account.my_claim, name="my_claim"),
    path("my-claim/respond/", account.respond, name="respond"),
    path("my-claim/offer/", account.offer_view, name="offer"),
    path("my-claim/offer/decline/", account.offer_decline, name="offer_decline"),
    path("my-claim/offers/<id:pk>/answer/", offer_parts.offer_answer, name="offer_answer"),
    path("my-claim/offers/<id:pk>/revised/", offer_parts.revised_offer, name="revised_offer"),
    path("my-claim/bank-details/", account.bank_details, name="bank_details"),
    path("my-claim/withdraw/", account.withdraw, name="withdraw"),
    path("my-claim/ask-for-review/", account.rejection_review, name="rejection_review"),
    path(
        "my-claim/offers/<id:pk>/revised/decline/",
        offer_parts.revised_offer_decline,
        name="revised_offer_decline",
    ),
    path("my-claim/files/<id:pk>/", account.evidence_download, name="evidence"),
    path("my-claim/letters/<id:pk>/", account.letter_download, name="letter"),
]
