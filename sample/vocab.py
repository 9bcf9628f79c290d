"""Invented word lists and mappings the sample generator draws from (none of it comes from data)."""

from __future__ import annotations

SITE = "https://www.x-education.example"

# --- people ------------------------------------------------------------------------------

INDIAN_FIRST = (
    "Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rahul", "Deepika",
    "Sanjay", "Meera", "Aditya", "Pooja", "Karthik", "Lakshmi", "Nikhil", "Divya", "Siddharth",
    "Shreya", "Amit", "Neha", "Rajesh", "Anjali", "Harish", "Swati", "Manish", "Isha", "Varun",
    "Tanvi", "Farhan", "Zainab", "Gurpreet", "Sai",
)
INDIAN_LAST = (
    "Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Mehta", "Kulkarni", "Deshpande",
    "Joshi", "Rao", "Menon", "Chatterjee", "Banerjee", "Singh", "Kapoor", "Pillai", "Shah",
    "Verma", "Bhat", "Desai", "Naidu", "Mukherjee", "Agarwal", "Qureshi", "Fernandes",
)
GULF_FIRST = (
    "Omar", "Fatima", "Yousef", "Layla", "Khalid", "Noura", "Hamad", "Mariam", "Ahmed", "Aisha",
    "Rania", "Tariq",
)
GULF_LAST = (
    "Al-Mansouri", "Al-Harbi", "Haddad", "Khoury", "Nasser", "Al-Qahtani", "Saleh", "Al-Amiri",
    "Darwish",
)
GLOBAL_FIRST = (
    "José", "Zoë", "Łukasz", "Søren", "François", "Björn", "Chloé", "Mateo", "Sofía", "Hana",
    "Kenji", "Ngozi", "Chinedu", "Amara", "Inês", "João", "Małgorzata", "Emily", "James",
    "Olivia", "Liam", "Wei", "Mei", "Siobhán", "Dmitri", "Aylin", "Renée", "Noah", "Grace",
    "Thảo", "Minh", "Ana", "Lars", "Elif", "Tomás", "Anaïs",
)
GLOBAL_LAST = (
    "García", "Müller", "Kowalski", "Nguyễn", "Tanaka", "O'Connor", "Okafor", "Silva", "Dubois",
    "Johansson", "Smith", "Chen", "Novák", "Petrović", "Fernández", "Kim", "Rossi", "Yılmaz",
    "Andersen", "Brown", "Wiśniewski", "Lefèvre", "Søndergaard", "Adeyemi", "Trần", "Schäfer",
    "Walsh", "Ibrahim",
)
# Letters that Unicode decomposition does not reduce to ASCII.
ASCII_FOLD = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae", "ı": "i"}
)

OWNERS = ("Priya Nair", "Daniel Okafor", "Sofía Martínez", "Arjun Mehta")
PERSONAL_DOMAINS = ("mailbox.example", "inbox.example", "postbox.example")

# --- geography ---------------------------------------------------------------------------

# country -> (IANA zone, standard UTC offset in hours). The offset only biases event times
# towards local business hours; daylight saving is ignored on purpose (stable output).
TIMEZONES: dict[str, tuple[str, float]] = {
    "India": ("Asia/Kolkata", 5.5),
    "United Arab Emirates": ("Asia/Dubai", 4),
    "Singapore": ("Asia/Singapore", 8),
    "Saudi Arabia": ("Asia/Riyadh", 3),
    "United Kingdom": ("Europe/London", 0),
    "Australia": ("Australia/Sydney", 10),
    "Qatar": ("Asia/Qatar", 3),
    "Germany": ("Europe/Berlin", 1),
    "France": ("Europe/Paris", 1),
    "Canada": ("America/Toronto", -5),
    "Nigeria": ("Africa/Lagos", 1),
    "South Africa": ("Africa/Johannesburg", 2),
    "Hong Kong": ("Asia/Hong_Kong", 8),
    "Kuwait": ("Asia/Kuwait", 3),
    "Oman": ("Asia/Muscat", 4),
    "Bahrain": ("Asia/Bahrain", 3),
    "Netherlands": ("Europe/Amsterdam", 1),
    "Sweden": ("Europe/Stockholm", 1),
    "Philippines": ("Asia/Manila", 8),
    "Kenya": ("Africa/Nairobi", 3),
    "Malaysia": ("Asia/Kuala_Lumpur", 8),
    "Vietnam": ("Asia/Ho_Chi_Minh", 7),
    "Bangladesh": ("Asia/Dhaka", 6),
    "Sri Lanka": ("Asia/Colombo", 5.5),
    "Poland": ("Europe/Warsaw", 1),
}
US_ZONES: tuple[tuple[str, float], ...] = (
    ("America/New_York", -5),
    ("America/Chicago", -6),
    ("America/Los_Angeles", -8),
)
# Concrete countries for the statistics' "Other" bucket (rare countries, merged for privacy).
OTHER_COUNTRIES = (
    "Germany", "France", "Canada", "Nigeria", "South Africa", "Hong Kong", "Kuwait", "Oman",
    "Bahrain", "Netherlands", "Sweden", "Philippines", "Kenya", "Malaysia", "Vietnam",
    "Bangladesh", "Sri Lanka", "Poland",
)
GULF = frozenset({"United Arab Emirates", "Saudi Arabia", "Qatar", "Kuwait", "Oman", "Bahrain"})

# --- companies ---------------------------------------------------------------------------

INDUSTRY_BY_SPECIALIZATION: dict[str, str] = {
    "Finance Management": "Financial Services",
    "Banking, Investment And Insurance": "Financial Services",
    "IT Projects Management": "Technology",
    "E-Business": "Technology",
    "Healthcare Management": "Healthcare",
    "Marketing Management": "Marketing & Advertising",
    "Media and Advertising": "Media",
    "Human Resource Management": "Professional Services",
    "Business Administration": "Professional Services",
    "Services Excellence": "Professional Services",
    "Operations Management": "Manufacturing",
    "Supply Chain Management": "Logistics & Supply Chain",
    "International Business": "Wholesale & Trade",
    "Travel and Tourism": "Travel & Hospitality",
    "Hospitality Management": "Travel & Hospitality",
    "E-COMMERCE": "Retail & E-commerce",
    "Retail Management": "Retail & E-commerce",
    "Rural and Agribusiness": "Agriculture",
}
COMPANY_PREFIX = (
    "Northwind", "Kestrel", "Bluefin", "Granite", "Saffron", "Meridian", "Lotus", "Cobalt",
    "Harbor", "Juniper", "Tamarind", "Orchid", "Vertex", "Summit", "Banyan", "Monsoon",
    "Silverline", "Redwood", "Aster", "Peregrine", "Indus", "Coral", "Falcon", "Everest",
    "Sahyadri", "Deccan", "Zephyr", "Quartz",
)
COMPANY_SUFFIX: dict[str | None, tuple[str, ...]] = {
    "Financial Services": ("Capital", "Finance", "Insurance", "Wealth", "Bank"),
    "Technology": ("Analytics", "Systems", "Labs", "Software", "Digital"),
    "Healthcare": ("Health", "Diagnostics", "Care", "Pharma"),
    "Marketing & Advertising": ("Media", "Creative", "Brands"),
    "Media": ("Media", "Studios", "Broadcasting"),
    "Professional Services": ("Consulting", "Partners", "Advisory", "Associates"),
    "Manufacturing": ("Industries", "Manufacturing", "Works"),
    "Logistics & Supply Chain": ("Logistics", "Freight", "Supply Co"),
    "Wholesale & Trade": ("Trading", "Exports", "Global"),
    "Travel & Hospitality": ("Hotels", "Travels", "Hospitality"),
    "Retail & E-commerce": ("Retail", "Stores", "Commerce"),
    "Agriculture": ("Agro", "Farms", "Agritech"),
    None: ("Group", "Solutions", "Enterprises", "Holdings"),
}

# --- roles -------------------------------------------------------------------------------

TITLES_BY_INDUSTRY: dict[str | None, tuple[str, ...]] = {
    "Financial Services": ("Finance Manager", "Credit Analyst", "VP Finance", "Risk Analyst"),
    "Technology": ("VP Engineering", "Software Engineer", "Data Analyst", "IT Project Manager"),
    "Healthcare": ("Hospital Administrator", "Operations Manager", "Clinical Data Analyst"),
    "Marketing & Advertising": ("Marketing Manager", "Growth Lead", "Head of Marketing"),
    "Media": ("Content Strategist", "Marketing Manager", "Producer"),
    "Professional Services": (
        "HR Business Partner", "Head of Learning & Development", "Consultant", "Business Analyst",
    ),
    "Manufacturing": ("Operations Lead", "Plant Manager", "Director of Operations"),
    "Logistics & Supply Chain": ("Supply Chain Analyst", "Logistics Manager", "Procurement Lead"),
    "Wholesale & Trade": ("Export Manager", "Business Development Manager"),
    "Travel & Hospitality": ("Front Office Manager", "Revenue Manager", "Operations Manager"),
    "Retail & E-commerce": ("Product Manager", "Category Manager", "E-commerce Analyst"),
    "Agriculture": ("Agribusiness Manager", "Operations Manager"),
    None: ("Analyst", "Project Manager", "Sales Manager", "Product Manager", "Team Lead"),
}
ROLE_BY_OCCUPATION: dict[str, tuple[str, ...]] = {
    "Student": ("Student",),
    "Unemployed": ("Career changer",),
    "Housewife": ("Returning professional",),
    "Other": ("Founder", "Business owner", "Freelance consultant"),
}

# --- the demo company's web site and content ----------------------------------------------

COURSES = (
    "data-science", "product-management", "digital-marketing", "business-analytics",
    "finance-for-managers", "hr-analytics", "supply-chain-analytics", "healthcare-management",
    "mba-essentials",
)
COURSE_BY_INDUSTRY: dict[str | None, tuple[str, ...]] = {
    "Financial Services": ("finance-for-managers", "business-analytics"),
    "Technology": ("data-science", "product-management"),
    "Healthcare": ("healthcare-management", "business-analytics"),
    "Marketing & Advertising": ("digital-marketing", "product-management"),
    "Media": ("digital-marketing",),
    "Professional Services": ("hr-analytics", "mba-essentials"),
    "Manufacturing": ("supply-chain-analytics", "mba-essentials"),
    "Logistics & Supply Chain": ("supply-chain-analytics", "business-analytics"),
    "Wholesale & Trade": ("mba-essentials",),
    "Travel & Hospitality": ("mba-essentials", "digital-marketing"),
    "Retail & E-commerce": ("product-management", "digital-marketing"),
    "Agriculture": ("business-analytics", "mba-essentials"),
    None: ("data-science", "product-management", "business-analytics"),
}
BLOG_POSTS = (
    "/blog/switching-careers-into-data-science",
    "/blog/product-manager-interview-questions",
    "/blog/upskilling-while-working-full-time",
    "/blog/salary-guide-2026",
    "/blog/how-to-choose-an-online-course",
    "/blog/analytics-for-finance-teams",
    "/blog/hr-analytics-101",
)
CASE_STUDIES = (
    "/case-studies/northwind-analytics-upskilled-40-analysts",
    "/case-studies/kestrel-health-pm-academy",
    "/case-studies/from-operations-to-data-science",
    "/case-studies/banyan-capital-team-licence",
)
GENERIC_PAGES = ("/", "/courses", "/admissions", "/scholarships", "/faq", "/about", "/alumni")
ASSETS: tuple[tuple[str, str], ...] = (
    ("data-science-career-guide", "Data Science Career Guide"),
    ("syllabus-pg-diploma", "Syllabus: PG Diploma"),
    ("salary-report-2026", "Salary Report 2026"),
    ("roi-of-upskilling", "The ROI of Upskilling (worksheet)"),
    ("team-licence-brochure", "Team Licence Brochure"),
)
FREE_COPY_ASSET = ("mastering-the-interview", "Mastering The Interview (e-book)")
VIDEOS = (
    "course-preview-data-science", "alumni-story", "how-live-classes-work",
    "product-management-trailer",
)
WEBINARS = ("breaking-into-data-science-2026", "pm-career-ama", "analytics-for-managers-live")
# The nurture arc, in send order.
CAMPAIGNS = (
    "welcome", "career-guide", "benchmark-report", "case-study", "course-comparison",
    "live-class-preview", "pricing-and-scholarships", "faq", "book-a-counselling-call",
    "we-miss-you",
)
MILESTONES = ("first_lesson_completed", "quiz_passed", "module_1_completed", "project_submitted")
FORM_BY_ORIGIN = {"Landing Page Submission": "course-enquiry", "Lead Add Form": "lead-add-form"}
REJECT_REASONS = ("no budget", "no budget", "wrong contact", "timing: not this year",
                  "already enrolled elsewhere")
STUDENT_REJECT_REASON = "student, not a buyer"
# (price, is a team licence)
INDIVIDUAL_PRICES = (500, 900, 1500, 2400, 3200)
TEAM_PRICES = (6000, 9500, 14000, 20000)
