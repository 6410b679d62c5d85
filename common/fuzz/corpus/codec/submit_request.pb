
/v1/webhooks/githubapplication/json
x-github-eventping"{"zen":"hi"}