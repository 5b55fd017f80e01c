namespace Egress.Core;

/// <summary>An AWS region and where it is: what an IP geolocation service reports for addresses there.</summary>
public sealed record AwsRegion(string Code, string City, string Country, string CountryCode);

/// <summary>The commercial AWS regions this tool knows, with the city a geolocation service places them in.</summary>
public static class AwsRegions
{
    public static IReadOnlyList<AwsRegion> All { get; } =
    [
        new("us-east-1", "Ashburn", "United States", "US"),
        new("us-east-2", "Columbus", "United States", "US"),
        new("us-west-1", "San Jose", "United States", "US"),
        new("us-west-2", "Boardman", "United States", "US"),
        new("ca-central-1", "Montreal", "Canada", "CA"),
        new("ca-west-1", "Calgary", "Canada", "CA"),
        new("mx-central-1", "Queretaro", "Mexico", "MX"),
        new("sa-east-1", "Sao Paulo", "Brazil", "BR"),
        new("eu-west-1", "Dublin", "Ireland", "IE"),
        new("eu-west-2", "London", "United Kingdom", "GB"),
        new("eu-west-3", "Paris", "France", "FR"),
        new("eu-central-1", "Frankfurt am Main", "Germany", "DE"),
        new("eu-central-2", "Zurich", "Switzerland", "CH"),
        new("eu-north-1", "Stockholm", "Sweden", "SE"),
        new("eu-south-1", "Milan", "Italy", "IT"),
        new("eu-south-2", "Zaragoza", "Spain", "ES"),
        new("me-south-1", "Manama", "Bahrain", "BH"),
        new("me-central-1", "Dubai", "United Arab Emirates", "AE"),
        new("il-central-1", "Tel Aviv", "Israel", "IL"),
        new("af-south-1", "Cape Town", "South Africa", "ZA"),
        new("ap-east-1", "Hong Kong", "Hong Kong", "HK"),
        new("ap-east-2", "Taipei", "Taiwan", "TW"),
        new("ap-south-1", "Mumbai", "India", "IN"),
        new("ap-south-2", "Hyderabad", "India", "IN"),
        new("ap-southeast-1", "Singapore", "Singapore", "SG"),
        new("ap-southeast-2", "Sydney", "Australia", "AU"),
        new("ap-southeast-3", "Jakarta", "Indonesia", "ID"),
        new("ap-southeast-4", "Melbourne", "Australia", "AU"),
        new("ap-southeast-5", "Kuala Lumpur", "Malaysia", "MY"),
        new("ap-southeast-7", "Bangkok", "Thailand", "TH"),
        new("ap-northeast-1", "Tokyo", "Japan", "JP"),
        new("ap-northeast-2", "Seoul", "South Korea", "KR"),
        new("ap-northeast-3", "Osaka", "Japan", "JP"),
    ];

    public static AwsRegion? Find(string code) => All.FirstOrDefault(r => r.Code == code);
}
