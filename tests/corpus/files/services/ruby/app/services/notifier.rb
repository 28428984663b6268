require "net/http"
require "json"

class Notifier
  SLACK_TRIGGER = URI("https://hooks.slack.com/triggers/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")
  TEAMS_FLOW = URI("https://default5639e50ea6fbed3d319af3d32d2279bd.0e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/15ccaf2cf396f0c8b7bab068090ab789/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TM_C9s5JMOs7Mi9i5lrhUPpLR4-Ay5EEgFCgtc449X2")
  TWILIO_SMS = URI("https://AC745b4c1026caab8b7357b195d52d4a4f:cf76a6af23d6d9f6873f9da07075ac66@api.twilio.com/2010-04-01/Accounts/ACc1b2b65e4264acc1324dcb6f92647013/Messages.json")

  def self.deploy_finished(sha)
    payload = { text: "Deployed #{sha[0, 7]}" }.to_json
    Net::HTTP.post(SLACK_TRIGGER, payload, "Content-Type" => "application/json")
    Net::HTTP.post(TEAMS_FLOW, payload, "Content-Type" => "application/json")
  end
end
