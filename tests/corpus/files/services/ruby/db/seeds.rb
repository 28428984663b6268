# Development seeds. Passwords are generated, never fixed.
admin = User.find_or_create_by!(email: "admin@harborlights.test") do |u|
  u.password = SecureRandom.base64(24)
  u.api_token = SecureRandom.hex(32)
end

Order.create!(user: admin, external_ref: "cf1be0aa-e9ed-4d69-b8b6-ae0a6c3585d1", checksum: "0b0b857a15aa148ff55060579c3b2410da44b671213aa0df62f305d69e801d34")
ApiClient.create!(name: "storybook", secret_digest: Digest::SHA256.hexdigest("f8771ea8-16c8-48b8-a2e6-cc22ac39293d"))
