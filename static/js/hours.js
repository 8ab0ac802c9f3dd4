// Shows the lost-time sum as the claimant types. The page works without it:
// the same sum is shown after the form is sent.
(function () {
  var input = document.getElementById("id_hours");
  var output = document.getElementById("hours-estimate");
  if (!input || !output) { return; }
  var rate = parseFloat(output.dataset.rate);
  var cap = parseFloat(output.dataset.cap);
  var capEvidence = parseFloat(output.dataset.capEvidence);
  function pounds(n) { return "£" + n.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function update() {
    var hours = parseFloat(input.value);
    if (!(hours > 0) || hours > 1000) { output.textContent = ""; return; }
    output.textContent = hours + " hours at " + pounds(rate) + " an hour: up to " +
      pounds(Math.min(hours, cap) * rate) + " without evidence, " +
      pounds(Math.min(hours, capEvidence) * rate) + " with a log of your time.";
  }
  input.addEventListener("input", update);
  update();
})();
