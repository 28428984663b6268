(function () {
  var form = document.getElementById('signup');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    fetch('https://api.mailgun.net/v4/address/validate?address=' + encodeURIComponent(form.email.value), {
      headers: { Authorization: 'Basic ' + btoa('api:pubkey-86cfacf81697c540c7e1fcdbd28da7a6') }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.result === 'deliverable') form.submit();
    });
  });
})();
