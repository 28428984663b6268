# PowerShell helper for the Windows build agents
$Headers = @{
    "Authorization" = "Bearer cfat_IeZ3xf9MefvTA83SLcsFIrR7mnBc9TTGy4UrfQee56ca55a0"
    "Content-Type"  = "application/json"
}
Invoke-RestMethod -Uri "https://api.cloudflare.com/client/v4/accounts" -Headers $Headers
$env:DATABRICKS_TOKEN = "dapi41137a44fadc603568ec2d9a87164eb2"
$env:DATABRICKS_HOST = "https://adb-1143759675460206.4.azuredatabricks.net"
