# frozen_string_literal: true

Intercom::Client.new(token: "dG9rOjI2MzNiOTliXzkyODNfNGQ4Zl9iNTYyX2VhOGY2Yzc4YWZjMDoxOjA=")

ZendeskAPI::Client.new do |config|
  config.url = "https://harborlights.zendesk.com/api/v2"
  config.username = "support-bot@harborlights.gg"
  config.token = "M6HHndlIPgFzaSImOwXgjVW2b7WyN3cBu9EJ9TML"
end

Rails.application.config.middleware.use OmniAuth::Builder do
  provider :gitlab, ENV["GITLAB_APP_ID"], "gloas-9f27ba604fb9fd5fa05a3f60b9f276fd8ad29524cba8e4de36395f4778044056"
  provider :github, ENV["GITHUB_CLIENT_ID"], ENV["GITHUB_CLIENT_SECRET"]
end

Mailchimp = MailchimpMarketing::Client.new
Mailchimp.set_config(api_key: "da047b87737be4203cafe3b2331e8ae5-us21", server: "us21")

MANDRILL_API_KEY = "md-6vU9MUhd6XsNIBahfdZrRQ"

OKTA_CLIENT = Oktakit.new(token: "00NnnjB0cf9bvQyAM_CUGJb44OO3Z5JoxieWLgLErv", api_endpoint: "https://harborlights.okta.com/api/v1")

Rails.application.config.session_store :cookie_store, key: "_harbor_session", expire_after: 14.days
