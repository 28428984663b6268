# PowerShell helper for the Windows build agents
$Headers = @{
    "Authorization" = "Bearer cfat_Kku9BW2JdcUdOYu1LqroIeZ3xf9MefvTA83SLcsF866d1c82"
    "Content-Type"  = "application/json"
}
Invoke-RestMethod -Uri "https://api.cloudflare.com/client/v4/accounts" -Headers $Headers
$env:DATABRICKS_TOKEN = "dapi2256ca55a041137a44fadc603568ec2d"
$env:DATABRICKS_HOST = "https://adb-5543032785101437.4.azuredatabricks.net"
