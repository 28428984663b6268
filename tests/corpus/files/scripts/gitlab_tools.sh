#!/bin/bash
# Assorted GitLab API calls used during the 2025 migration.
curl --header "PRIVATE-TOKEN: glpat-W1zbNDYCBcvwiumVlIYQ" https://gitlab.com/api/v4/projects?owned=true
curl -H "Authorization: Bearer glsoat-X0UdLD2Ay5rHmhvV3PFv" https://gitlab.com/api/scim/v2/groups/harbor/Users
wget -q "https://gitlab.com/harbor/api/-/issues.atom?feed_token=glft-f10tusPhoiConsV9KTHX&state=opened" -O issues.atom
git clone https://gitlab-ci-token:glcbt-n4_8VADqqUbW7N5Xa2y-NqJ@gitlab.com/harbor/api.git /tmp/api
echo "reply to incoming+harbor-api-4242-glimt-qhomivma8w2x3ikcp7lq0azk8-issue@gitlab.com"
export UNLEASH_INSTANCE_ID=glffct-jBbHeGbBS2HlhoT28LsU
