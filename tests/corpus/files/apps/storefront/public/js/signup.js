(function () {
  var form = document.getElementById('signup');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    fetch('https://api.mailgun.net/v4/address/validate?address=' + encodeURIComponent(form.email.value), {
      headers: { Authorization: 'Basic ' + btoa('api:pubkey-1954b2ec86cfacf81697c540c7e1fcdb') }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.result === 'deliverable') form.submit();
    });
  });
})();
