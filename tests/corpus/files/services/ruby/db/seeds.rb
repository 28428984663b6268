# Development seeds. Passwords are generated, never fixed.
admin = User.find_or_create_by!(email: "admin@harborlights.test") do |u|
  u.password = SecureRandom.base64(24)
  u.api_token = SecureRandom.hex(32)
end

Order.create!(user: admin, external_ref: "c6414f86-b8be-4fac-9712-4f7088c8dcc9", checksum: "a4a1c35dc149632e0d324e14044801f169e641fb9f48148b61b6e2356002a00b")
ApiClient.create!(name: "storybook", secret_digest: Digest::SHA256.hexdigest("417ad03d-9e13-43d6-882c-af7dc075128a"))
