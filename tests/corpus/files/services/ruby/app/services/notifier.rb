require "net/http"
require "json"

class Notifier
  SLACK_TRIGGER = URI("https://hooks.slack.com/triggers/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")
  TEAMS_FLOW = URI("https://default39e50ea6fbed3d319af3d32d2279bd15.0e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/ccaf2cf396f0c8b7bab068090ab789b9/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=_C9s5JMOs7Mi9i5lrhUPpLR4-Ay5EEgFCgtc449X2Dq")
  TWILIO_SMS = URI("https://AC5b4c1026caab8b7357b195d52d4a4fcf:76a6af23d6d9f6873f9da07075ac66c1@api.twilio.com/2010-04-01/Accounts/ACb2b65e4264acc1324dcb6f9264701330/Messages.json")

  def self.deploy_finished(sha)
    payload = { text: "Deployed #{sha[0, 7]}" }.to_json
    Net::HTTP.post(SLACK_TRIGGER, payload, "Content-Type" => "application/json")
    Net::HTTP.post(TEAMS_FLOW, payload, "Content-Type" => "application/json")
  end
end
